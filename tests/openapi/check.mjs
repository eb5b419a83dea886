#!/usr/bin/env node
// The API contract test: doc/openapi.yaml must be a valid OpenAPI 3.1
// document, and it must describe exactly the routes of lib/api/routes.def, with
// the access, flags and body schema each route has there.
//
//   node tests/openapi/check.mjs        (from anywhere; paths are relative
//                                        to this file)
//
// Exits 0 when all is well, 1 on any problem (each printed on its own line).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parseDocument } from 'yaml';

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const DOC = join(root, 'doc', 'openapi.yaml');
const LIB = join(root, 'lib');
const ROUTES = join(LIB, 'api', 'routes.def');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const failures = [];
const fail = (section, msg) => failures.push(`${section}: ${msg}`);

// ---------------------------------------------------------------- helpers

/* Removes C comments, keeping string literals (which may hold slashes). */
function stripComments(src) {
	return src.replace(/"(?:\\.|[^"\\\n])*"|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) =>
		m.startsWith('"') ? m : ' ',
	);
}

function readC(path) {
	return stripComments(readFileSync(path, 'utf8'));
}

/* Resolves a local "#/a/b" reference in doc. */
function deref(doc, node) {
	const seen = new Set();
	while (node && typeof node === 'object' && typeof node.$ref === 'string') {
		if (seen.has(node.$ref)) throw new Error(`circular $ref ${node.$ref}`);
		seen.add(node.$ref);
		if (!node.$ref.startsWith('#/')) throw new Error(`external $ref ${node.$ref}`);
		node = node.$ref
			.slice(2)
			.split('/')
			.map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
			.reduce((o, k) => (o == null ? undefined : o[k]), doc);
		if (node === undefined) throw new Error(`unresolvable $ref`);
	}
	return node;
}

const sameSet = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));
const fmtSet = (s) => `[${[...s].sort().join(', ')}]`;

// ------------------------------------------------- 1. parse and validate

function loadDocument() {
	const text = readFileSync(DOC, 'utf8');
	const ydoc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
	for (const e of [...ydoc.errors, ...ydoc.warnings]) fail('yaml', e.message.split('\n')[0]);
	return ydoc.errors.length ? null : ydoc.toJS();
}

async function validateDocument(doc) {
	const validator = new Validator();
	const res = await validator.validate(structuredClone(doc));
	if (!res.valid) {
		const errors = Array.isArray(res.errors) ? res.errors : [res.errors];
		for (const e of errors.slice(0, 40))
			fail(
				'validator',
				typeof e === 'string'
					? e
					: `${e.instancePath || '/'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`,
			);
		if (errors.length > 40) fail('validator', `... and ${errors.length - 40} more`);
		return;
	}
	if (validator.version !== '3.1') fail('validator', `expected OpenAPI 3.1, found ${validator.version}`);
}

/* Every schema (components and inline) must compile as strict JSON Schema
 * 2020-12, and every example must match its schema. */
function checkSchemas(doc) {
	const BASE = 'https://twotier.example/openapi.json';
	const rewrite = (node) =>
		JSON.parse(
			JSON.stringify(node ?? {}).replace(/"\$ref":"#\/components\/schemas\//g, `"$ref":"${BASE}#/$defs/`),
		);
	const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
	addFormats(ajv);
	ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
	try {
		ajv.addSchema({ $id: BASE, $defs: rewrite(doc.components?.schemas) });
	} catch (e) {
		fail('schemas', `components.schemas: ${e.message}`);
		return;
	}
	const compile = (where, schema) => {
		try {
			return ajv.compile(rewrite(schema));
		} catch (e) {
			fail('schemas', `${where}: ${e.message}`);
			return null;
		}
	};
	const tryExample = (where, validate, value) => {
		if (validate && !validate(value))
			fail('examples', `${where}: ${ajv.errorsText(validate.errors)}`);
	};
	for (const name of Object.keys(doc.components?.schemas ?? {}))
		compile(`components.schemas.${name}`, { $ref: `#/components/schemas/${name}` });
	// parameters, headers and media types: anything holding a `schema`
	const walk = (node, where) => {
		if (!node || typeof node !== 'object') return;
		if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
		if ('schema' in node && typeof node.schema === 'object' && !('type' in node && 'properties' in node)) {
			const validate = compile(`${where}.schema`, node.schema);
			if ('example' in node) tryExample(`${where}.example`, validate, node.example);
			for (const [k, ex] of Object.entries(node.examples ?? {}))
				if (ex && typeof ex === 'object' && 'value' in ex)
					tryExample(`${where}.examples.${k}`, validate, ex.value);
		}
		for (const [k, v] of Object.entries(node)) {
			if (k === 'schema' || k.startsWith('x-') || (where === 'components' && k === 'schemas')) continue;
			walk(v, where ? `${where}.${k}` : k);
		}
	};
	walk(doc.paths, 'paths');
	walk(doc.components, 'components');
}

/* Path templates must match the declared path parameters; operationIds
 * must be unique. */
function checkOperations(doc) {
	const ids = new Map();
	for (const [path, item] of Object.entries(doc.paths ?? {})) {
		const templ = new Set([...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]));
		for (const method of METHODS) {
			const op = item[method];
			if (!op) continue;
			const where = `${method.toUpperCase()} ${path}`;
			if (!op.operationId) fail('document', `${where} has no operationId`);
			else if (ids.has(op.operationId))
				fail('document', `operationId ${op.operationId} on both ${ids.get(op.operationId)} and ${where}`);
			else ids.set(op.operationId, where);
			const declared = new Set();
			for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
				const r = deref(doc, p);
				if (r?.in === 'path') declared.add(r.name);
			}
			if (!sameSet(templ, declared))
				fail('document', `${where}: path parameters ${fmtSet(declared)} but template has ${fmtSet(templ)}`);
			for (const [status, resp] of Object.entries(op.responses ?? {})) {
				const r = deref(doc, resp);
				if (!r?.headers?.['X-Request-Id'])
					fail('document', `${where} ${status}: no X-Request-Id header`);
			}
		}
	}
}

// ----------------------------------------------- 2. the C side of things

/* Every C file of lib/ and its layer folders, as paths relative to lib/. */
const libFiles = (re) =>
	readdirSync(LIB, { withFileTypes: true })
		.flatMap((d) => (d.isDirectory() ? readdirSync(join(LIB, d.name)).map((f) => `${d.name}/${f}`) : [d.name]))
		.filter((f) => re.test(f))
		.sort();

/* #define NAME <value> from every lib/ file: aliases and numbers. */
function readDefines() {
	const defs = new Map();
	for (const f of libFiles(/\.[ch]$/)) {
		for (const m of readC(join(LIB, f)).matchAll(/^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+([^\n]+)$/gm)) {
			const value = m[2].trim();
			if (!defs.has(m[1]) || f === 'api/routes.c') defs.set(m[1], value);
		}
	}
	return defs;
}

/* ROLE_x / SCOPE_x bits and names from the X-macros in lib/auth/auth.h. */
function readAuthBits() {
	const src = readC(join(LIB, 'auth', 'auth.h'));
	const bits = new Map();
	const roles = [];
	const scopes = [];
	for (const m of src.matchAll(/X\(\s*((?:ROLE|SCOPE)_\w+)\s*,\s*([^,]+?)\s*,\s*"([^"]+)"\s*\)/g)) {
		const shift = m[2].match(/^1u?\s*<<\s*(\d+)$/);
		const bit = shift ? 1 << Number(shift[1]) : Number.parseInt(m[2], 0);
		bits.set(m[1], bit);
		(m[1].startsWith('ROLE_') ? roles : scopes).push({ bit, name: m[3] });
	}
	return { bits, roles, scopes };
}

function makeEvaluator(defines, auth) {
	const ident = (name, depth = 0) => {
		if (depth > 10) throw new Error(`macro ${name} nests too deep`);
		if (auth.bits.has(name)) return auth.bits.get(name);
		if (defines.has(name)) return number(defines.get(name), depth + 1);
		throw new Error(`unknown name ${name}`);
	};
	const number = (expr, depth = 0) => {
		let value = 0;
		for (let term of expr.split('|')) {
			term = term.trim().replace(/^\((.*)\)$/, '$1').trim();
			if (/^(0x[0-9a-f]+|\d+)u?l?$/i.test(term)) value |= Number.parseInt(term.replace(/[ul]+$/i, ''));
			else if (/^\w+$/.test(term)) value |= ident(term, depth);
			else throw new Error(`cannot evaluate "${expr}"`);
		}
		return value;
	};
	/* Follows aliases to the final names: "BODY | DB" -> {ROUTE_BODY, ROUTE_DB}. */
	const names = (expr) => {
		const out = new Set();
		for (let term of expr.split('|')) {
			term = term.trim();
			for (let i = 0; i < 10 && defines.has(term) && /^\w+$/.test(defines.get(term)); i++)
				term = defines.get(term);
			if (term !== '0') out.add(term);
		}
		return out;
	};
	return { number, names };
}

function readRoutes() {
	const src = readC(ROUTES);
	const rows = [];
	for (const m of src.matchAll(/^ROUTE\(\s*"([A-Z]+)"\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*,([^()]*)\)/gm)) {
		const rest = m[4].split(',').map((s) => s.trim());
		const [access, roles, scope, flags, schema, handler] = rest;
		// the router's kinds ({id:uuid}) are the document's parameter schemas
		const path = m[2].replace(/\{(\w+):\w+\}/g, '{$1}');
		rows.push({ method: m[1], path, name: m[3], access, roles, scope, flags, schema, handler });
	}
	const opened = (src.match(/^ROUTE\(/gm) ?? []).length;
	if (opened === 0) fail('routes.def', 'no ROUTE( row');
	if (opened !== rows.length)
		fail('routes.def', `${opened} rows start with ROUTE( but only ${rows.length} could be read`);
	return rows;
}

/* Every `const struct json_field NAME[] = {...};` in lib/. */
function readBodySchemas(evaluate) {
	const schemas = new Map();
	for (const f of libFiles(/\.c$/)) {
		const src = readC(join(LIB, f));
		for (const m of src.matchAll(/struct\s+json_field\s+(\w+)\s*\[\s*\]\s*=\s*\{([\s\S]*?)\}\s*;/g)) {
			const fields = [];
			for (const r of m[2].matchAll(/\{\s*(?:"([^"]*)"|NULL)\s*,\s*(\w+)\s*,\s*(\w+)\s*,\s*([\w\s|()]+?)\s*,\s*(\w+)\s*\}/g)) {
				if (r[1] === undefined) break; // the terminator
				fields.push({ name: r[1], kind: r[2], required: r[3] === 'true', max: r[4], nested: r[5] });
			}
			schemas.set(m[1], { file: f, fields });
		}
	}
	return { get: (n) => schemas.get(n), evaluate };
}

// ------------------------------------- 3. the route table vs the document

function documentOperations(doc) {
	const ops = [];
	for (const [path, item] of Object.entries(doc.paths ?? {}))
		for (const method of METHODS)
			if (item[method]) ops.push({ method: method.toUpperCase(), path, name: item[method].operationId, op: item[method], item });
	return ops;
}

const TYPE_OF_KIND = {
	JSON_STRING: 'string',
	JSON_INTEGER: 'integer',
	JSON_BOOL: 'boolean',
	JSON_OBJECT: 'object',
	JSON_STRING_ARRAY: 'array',
};

function compareBody(doc, where, schemaNode, cFields, bodies, evaluate) {
	const s = deref(doc, schemaNode);
	if (!s || typeof s !== 'object') return fail(where, 'no schema');
	if (s.additionalProperties !== false) fail(where, 'needs additionalProperties: false');
	const props = s.properties ?? {};
	const cNames = new Set(cFields.map((f) => f.name));
	if (!sameSet(cNames, new Set(Object.keys(props))))
		fail(where, `fields ${fmtSet(new Set(Object.keys(props)))} but the C schema has ${fmtSet(cNames)}`);
	const cReq = new Set(cFields.filter((f) => f.required).map((f) => f.name));
	if (!sameSet(cReq, new Set(s.required ?? [])))
		fail(where, `required ${fmtSet(new Set(s.required ?? []))} but the C schema requires ${fmtSet(cReq)}`);
	for (const f of cFields) {
		if (!(f.name in props)) continue;
		const p = deref(doc, props[f.name]);
		const at = `${where}.${f.name}`;
		const types = new Set([p.type ?? []].flat());
		const want = TYPE_OF_KIND[f.kind];
		if (!want) {
			fail(at, `unknown field kind ${f.kind}`);
			continue;
		}
		if (!types.has(want)) fail(at, `type ${fmtSet(types)} but the C schema has ${f.kind} (${want})`);
		if (f.required === types.has('null'))
			fail(at, f.required ? 'is required, so must not allow null' : 'is optional, so its type must allow null');
		let max;
		try {
			max = evaluate.number(f.max);
		} catch (e) {
			fail(at, `max_len: ${e.message}`);
			continue;
		}
		if (f.kind === 'JSON_STRING' && max > 0 && p.maxLength !== max)
			fail(at, `maxLength ${p.maxLength} but the C schema says ${max}`);
		if (f.kind === 'JSON_STRING_ARRAY') {
			if (max > 0 && p.maxItems !== max) fail(at, `maxItems ${p.maxItems} but the C schema says ${max}`);
			const items = deref(doc, p.items);
			if (!items || ![items.type].flat().includes('string')) fail(at, 'items must be strings');
			else if (items.maxLength !== undefined && items.maxLength > 256) fail(at, 'items are at most 256 bytes');
		}
		if (f.kind === 'JSON_OBJECT') {
			const nested = bodies.get(f.nested);
			if (!nested) fail(at, `cannot find the C schema ${f.nested}`);
			else compareBody(doc, at, p, nested.fields, bodies, evaluate);
		}
	}
}

function checkRoute(doc, row, entry, evaluate, bodies, auth) {
	const where = `${row.name}`;
	const op = entry.op;
	const params = [...(entry.item.parameters ?? []), ...(op.parameters ?? [])].map((p) => deref(doc, p));
	const hasParam = (name, inn) => params.some((p) => p?.in === inn && p?.name?.toLowerCase() === name.toLowerCase());
	let access, flags, roleBits, scopeBits;
	try {
		access = [...evaluate.names(row.access)][0];
		flags = evaluate.names(row.flags);
		roleBits = evaluate.number(row.roles);
		scopeBits = evaluate.number(row.scope);
	} catch (e) {
		return fail(where, `cannot read the route row: ${e.message}`);
	}
	const bitsToNames = (bits, table) => new Set(table.filter((t) => bits & t.bit).map((t) => t.name));
	const security = op.security ?? doc.security ?? [];
	const anonymous = security.some((r) => Object.keys(r).length === 0);
	const schemes = new Set(security.flatMap((r) => Object.keys(r)));
	const statuses = new Set(Object.keys(op.responses ?? {}));
	const needStatus = (codes, why) => {
		for (const c of codes) if (!statuses.has(c)) fail(where, `no ${c} response (${why})`);
	};

	// who may call
	if (access === 'ACCESS_ANYONE') {
		if (op['x-access'] !== 'anyone') fail(where, `x-access should be "anyone", is ${JSON.stringify(op['x-access'])}`);
		// app.c never looks at credentials on an open route
		if (!anonymous || schemes.size > 0) fail(where, 'a public route ignores credentials: security must be [{}]');
		for (const x of ['x-roles', 'x-scopes'])
			if (op[x] !== undefined && !(Array.isArray(op[x]) && op[x].length === 0))
				fail(where, `a public route should not list ${x}`);
	} else if (access === 'ACCESS_AUTH') {
		const roles = bitsToNames(roleBits, auth.roles);
		const scopes = bitsToNames(scopeBits, auth.scopes);
		if (op['x-access'] !== 'authenticated')
			fail(where, `x-access should be "authenticated", is ${JSON.stringify(op['x-access'])}`);
		if (!Array.isArray(op['x-roles']) || !sameSet(new Set(op['x-roles']), roles))
			fail(where, `x-roles should be ${fmtSet(roles)}, is ${JSON.stringify(op['x-roles'])}`);
		if (!Array.isArray(op['x-scopes']) || !sameSet(new Set(op['x-scopes']), scopes))
			fail(where, `x-scopes should be ${fmtSet(scopes)}, is ${JSON.stringify(op['x-scopes'])}`);
		if (anonymous) fail(where, 'needs authentication: security must not include {}');
		if (!schemes.has('bearerAuth')) fail(where, 'security must include bearerAuth');
		if (scopeBits !== 0 && !schemes.has('apiToken')) fail(where, 'API tokens may call it: security must include apiToken');
		if (scopeBits === 0 && schemes.has('apiToken')) fail(where, 'API tokens are refused: security must not include apiToken');
		needStatus(['401', '403'], 'authenticated route');
	} else {
		fail(where, `unknown access ${row.access}`);
	}

	// what the central checks answer
	needStatus(['400', '413'], 'central checks');
	if (flags.has('ROUTE_DB') || access === 'ACCESS_AUTH') needStatus(['500', '503'], 'uses the database');
	const body = flags.has('ROUTE_BODY');
	if (body !== Boolean(op.requestBody))
		fail(where, body ? 'takes a JSON body: needs a requestBody' : 'takes no body: must have no requestBody');
	if (body) {
		needStatus(['415'], 'body route');
		const rb = deref(doc, op.requestBody);
		if (Boolean(rb.required) === flags.has('ROUTE_BODY_OPTIONAL'))
			fail(where, flags.has('ROUTE_BODY_OPTIONAL') ? 'the body is optional: requestBody must not be required' : 'requestBody must be required');
		const media = Object.keys(rb.content ?? {});
		if (media.length !== 1 || media[0] !== 'application/json')
			fail(where, `requestBody must be application/json only, is ${fmtSet(new Set(media))}`);
		const c = bodies.get(row.schema);
		if (!c) fail(where, `cannot find the C body schema ${row.schema}`);
		else compareBody(doc, `${where} body`, rb.content?.['application/json']?.schema, c.fields, bodies, evaluate);
	}
	const idem = flags.has('ROUTE_IDEMPOTENT');
	if (idem !== hasParam('Idempotency-Key', 'header'))
		fail(where, idem ? 'honours Idempotency-Key: needs the header parameter' : 'does not honour Idempotency-Key: must not list it');
	if (idem) needStatus(['409', '422'], 'Idempotency-Key');
	if (row.path.includes('{')) needStatus(['404'], 'path id');
	// open to a user who must set up a second factor first (app.c)
	const setup = flags.has('ROUTE_MFA_SETUP');
	if (setup !== (op['x-mfa-setup'] === true))
		fail(where, setup ? 'is open while a second factor is set up: needs x-mfa-setup: true' : 'is closed until a required second factor is set up: must not have x-mfa-setup');
}

// ------------------------------------------------------------------ main

async function main() {
	const doc = loadDocument();
	const rows = readRoutes();
	if (!doc) return report(rows.length);
	await validateDocument(doc);
	checkSchemas(doc);
	checkOperations(doc);

	const key = (r) => `${r.method} ${r.path} ${r.name}`;
	const ops = documentOperations(doc);
	const inC = new Map(rows.map((r) => [key(r), r]));
	const inDoc = new Map(ops.map((o) => [key(o), o]));
	for (const [k] of inC) if (!inDoc.has(k)) fail('agreement', `only in lib/api/routes.def: ${k}`);
	for (const [k] of inDoc) if (!inC.has(k)) fail('agreement', `only in doc/openapi.yaml: ${k}`);
	if (inC.size !== rows.length) fail('routes.def', 'a (method, path, name) appears twice');

	const defines = readDefines();
	const auth = readAuthBits();
	const evaluate = makeEvaluator(defines, auth);
	const bodies = readBodySchemas(evaluate);
	for (const [k, row] of inC) if (inDoc.has(k)) checkRoute(doc, row, inDoc.get(k), evaluate, bodies, auth);
	return report(rows.length);
}

function report(nRoutes) {
	if (failures.length === 0) {
		console.log(`openapi: ${nRoutes} routes, document valid, route table and document agree`);
		return 0;
	}
	for (const f of failures) console.error(`  ${f}`);
	console.error(`openapi: FAILED, ${failures.length} problem(s) (${nRoutes} routes in lib/api/routes.def)`);
	return 1;
}

main().then(
	(code) => process.exit(code),
	(e) => {
		console.error(`openapi: FAILED, ${e.stack ?? e}`);
		process.exit(1);
	},
);
