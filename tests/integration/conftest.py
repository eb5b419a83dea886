"""pytest's configuration of the black-box integration suite: the checks
before the first test, the order of the tests, and the fixtures that build
the world a test needs.

Run it against a running stack (scripts/test does all of this):

    eval "$(scripts/stack env DIR)"
    export TWOTIER_TEST_DIR=DIR TWOTIER_TEST_PORT=PORT TWOTIER_REPO=REPO
    python3 -m pytest -p no:cacheprovider tests/integration [-k WORDS] [FILE...]

Order: files by name, then classes and test methods in definition order
(base classes' tests first); classes with RUN_LAST = True (tests that stop
or restart parts of the stack) after all others.  Other than that, no test
depends on another having run.

Fixtures: each builds through the API, as users do, with fresh domains and
e-mails (world.py and harness.py hold the builders).  Function-scoped ones
give each test a world of its own; class-scoped ones are shared by the
tests of one class, as setUpClass shared them.  The test classes are
unittest.TestCase classes: one takes fixtures through an autouse method
that binds them to self, e.g.

    class TestX(unittest.TestCase):
        @pytest.fixture(autouse=True)
        def _world(self, class_tenant):
            self.t = class_tenant
"""

import os
from datetime import date, timedelta

import pytest

import harness
import world

REQUIRED_ENV = ("TWOTIER_TEST_DIR", "TWOTIER_TEST_PORT", "TWOTIER_REPO", "TWOTIER_DB_SOCKET",
                "TWOTIER_DB_PASSWORD")


def pytest_sessionstart(session):
    missing = [v for v in REQUIRED_ENV if not os.environ.get(v)]
    if missing:
        pytest.exit("missing environment: %s (see scripts/test)" % " ".join(missing),
                    returncode=2)
    try:
        harness.wait_ready(30)
    except AssertionError as e:
        # the tests say what is wrong, each for itself
        print("\nthe stack is not ready: %s" % e)


# ---------------------------------------------------------------- ordering

def _method_names(cls):
    """Test method names of CLS in definition order (base classes first)."""
    names = []
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if name.startswith("test") and callable(value) and name not in names:
                names.append(name)
    return names


def _order_key(item):
    """(runs last, file name, place of its class or function in the file,
    place of the method in its class)."""
    module = item.module
    names = list(vars(module))
    cls = getattr(item, "cls", None)
    name = getattr(item, "originalname", None) or item.name.split("[")[0]
    if cls is None:
        return (False, os.path.basename(module.__file__), names.index(name), 0)
    methods = _method_names(cls)
    return (bool(getattr(cls, "RUN_LAST", False)), os.path.basename(module.__file__),
            names.index(cls.__name__), methods.index(name) if name in methods else len(methods))


def pytest_collection_modifyitems(session, config, items):
    """pytest collects files by name and classes in definition order, but a
    TestCase's methods by name: put them back in definition order, and the
    RUN_LAST classes after everything else (a stable sort: tests of one
    class stay together, in their order)."""
    items.sort(key=_order_key)


# ------------------------------------------------------------------ worlds

@pytest.fixture
def tenant():
    """A work account just signed up, its admin signed in (harness.new_tenant)."""
    return harness.new_tenant()


@pytest.fixture(scope="class")
def class_tenant():
    """One work account for the tests of a class."""
    return harness.new_tenant()


@pytest.fixture(scope="class")
def class_tenants():
    """Two work accounts for the tests of a class (one to act, one that
    must not see it)."""
    return harness.new_tenant(), harness.new_tenant()


@pytest.fixture
def api_token(tenant):
    """(tenant, the body of a new API token of it with profiles:read)."""
    return tenant, harness.new_api_token(tenant)


@pytest.fixture
def approved_reseller():
    """A work account enrolled, verified and approved as an indirect reseller."""
    return world.approved_tenant()


@pytest.fixture
def provider():
    """A work account the operator made an indirect provider (europe)."""
    return world.new_provider()


@pytest.fixture
def partners():
    """(provider, signed approved reseller, relationship id): the two with an
    active relationship."""
    return world.partners()


@pytest.fixture
def invited_customer():
    """(provider, reseller, rel, customer, invitation id, token): a customer
    work account invited through the partners' relationship, not yet
    accepted."""
    return world.invited()


@pytest.fixture
def shared_customer():
    """(provider, reseller, rel, customer): a customer that accepted, with its
    relationships with both."""
    return world.shared_customer()


@pytest.fixture(scope="class")
def current_agreement():
    """The current partner agreement template, published (effective
    yesterday) if there is none."""
    if world.current() is None:
        r = world.publish("2026.1", effective=date.today() - timedelta(days=1))
        assert r.status == 201, r
    return world.current()

