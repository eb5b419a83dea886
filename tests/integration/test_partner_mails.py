"""Mails for the changes a partner must know (issue 20, part 4): the
provider when a reseller authorizes it; both partners when a customer
accepts or ends; the provider and the reseller 30, 7 and 1 day before the
admin access ends, from the periodic job (every 2 s in the suite), once a
threshold, ever, however many passes and hosts look.  Through nginx, real
MariaDB, the real mail files."""
import time
import unittest

from harness import api, mails_to, sql, sql_value
from world import accept_invitation, invited, related

EXPIRING = "Admin access in the relationship with"


def subjects(address):
    return [m.subject for m in mails_to(address)]


def wait_subject(address, text, count=1, timeout=15.0):
    """Waits until COUNT mails to ADDRESS have TEXT in their subject;
    returns those mails."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in mails_to(address) if text in m.subject]
        if len(found) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(found) >= count, "%d mail(s) '%s' to %s: %r" % (len(found), text, address,
                                                               subjects(address))
    return found


def contact_of(tenant):
    return sql_value("SELECT contact_email FROM enrollments WHERE tenant_id = %s", (tenant.id,))


def company_of(tenant):
    """The name a tenant goes by: its legal profile's company, else its
    display name."""
    return sql_value("SELECT COALESCE(l.company_name, t.display_name) FROM tenants t LEFT JOIN "
                     "legal_profiles l ON l.tenant_id = t.id WHERE t.id = %s", (tenant.id,))


class TestPartnerMails(unittest.TestCase):

    def test_the_provider_hears_it_was_authorized(self):
        provider, reseller, rel = related()
        (m,) = wait_subject(provider.email, "authorized you as its indirect provider")
        self.assertIn(company_of(reseller), m.subject)
        # the reseller, who did it, is not mailed about it
        self.assertFalse([s for s in subjects(contact_of(reseller)) if "authorized" in s])

    def test_both_partners_hear_a_customer_accept_and_end(self):
        provider, reseller, rel, customer, inv, token = invited()
        r = accept_invitation(customer, inv, token)
        self.assertEqual(r.status, 201, r)
        for address in (provider.email, contact_of(reseller)):
            (m,) = wait_subject(address, "is now your customer")
            self.assertIn("Fabrikam SARL", m.subject)
        # the second is the one with the provider
        ended = r.body["relationships"][1]["id"]
        r = api("DELETE", "/v1/customer-relationships/%s" % ended, headers=customer.auth)
        self.assertEqual(r.status, 204, r)
        for address in (provider.email, contact_of(reseller)):
            (m,) = wait_subject(address, "ended its customer relationship")
            self.assertIn("Fabrikam SARL", m.subject)
            self.assertIn(company_of(provider), m.subject)
        # ending it again changes nothing and mails nothing
        self.assertEqual(api("DELETE", "/v1/customer-relationships/%s" % ended,
                             headers=customer.auth).status, 204)
        time.sleep(1)
        self.assertEqual(len([s for s in subjects(provider.email) if "ended its" in s]), 1)

    def test_admin_access_ending_is_mailed_once_a_threshold(self):
        provider, reseller, rel = related()
        contact = contact_of(reseller)

        def ends_in(seconds):
            sql("UPDATE relationships SET access_ends_at = UTC_TIMESTAMP(6) + INTERVAL %s "
                "SECOND WHERE id = %s", (seconds, rel["id"]))

        def notices():
            return [int(r[0]) for r in sql(
                "SELECT threshold_days FROM relationship_access_notices WHERE "
                "relationship_id = %s ORDER BY threshold_days DESC", (rel["id"],))]

        ends_in(20 * 86400)
        for address in (provider.email, contact):
            (m,) = wait_subject(address, EXPIRING)
            self.assertIn("30 day", m.body)
        self.assertIn(company_of(reseller), wait_subject(provider.email, EXPIRING)[0].subject)
        self.assertIn(company_of(provider), wait_subject(contact, EXPIRING)[0].subject)
        time.sleep(5)  # passes of the job go by: nothing more
        self.assertEqual(notices(), [30])
        self.assertEqual(len(wait_subject(provider.email, EXPIRING)), 1)
        ends_in(5 * 86400)
        wait_subject(provider.email, EXPIRING, count=2)
        ends_in(3600)
        mails = wait_subject(contact, EXPIRING, count=3)
        self.assertIn("1 day", mails[-1].body)
        time.sleep(5)
        self.assertEqual(notices(), [30, 7, 1])
        for address in (provider.email, contact):
            self.assertEqual(len(wait_subject(address, EXPIRING, count=3)), 3)
        # each notice is an event in both feeds, by the system, once
        for t in (provider, reseller):
            r = api("GET", "/v1/events?types=relationship.access_expiring", headers=t.auth)
            self.assertEqual(r.status, 200, r)
            got = [(e["data"]["id"], e["actor"]["type"]) for e in r.body["items"]]
            self.assertEqual(got, [(rel["id"], "system")] * 3)

    def test_removed_or_ended_access_is_not_mailed(self):
        provider, reseller, rel = related()
        sql("UPDATE relationships SET access_ends_at = UTC_TIMESTAMP(6) + INTERVAL 2 DAY, "
            "admin_access = 'removed' WHERE id = %s", (rel["id"],))
        time.sleep(5)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM relationship_access_notices WHERE "
                                   "relationship_id = %s", (rel["id"],)), "0")
        self.assertFalse([s for s in subjects(provider.email) if EXPIRING in s])


if __name__ == "__main__":
    unittest.main()
