#!/usr/bin/env node
// The include rule (docs/architecture.md): reads every #include in lib/ and
// cmd/, maps each header to its layer and fails, naming file:line, on an
// include that runs against the allowed arrows, on a banned external header,
// or on one that closes a cycle among modules. A module is a .c file; a
// header belongs to the .c files that define the functions it declares (so
// vh_tus.h belongs to vh_api_tus.c), a header with no functions stands alone.
//
//   node tests/layers.mjs [top]      exit 0 when clean, 1 with the list

import fs from 'node:fs';
import path from 'node:path';

// The arrows, as data: each layer and the layers it may include. Read
// downwards: cmd -> api -> media -> domain -> db, store -> core; http and
// event sit directly on core (domain and above may use the worker pool;
// only api and cmd may speak HTTP). Nothing in lib/ includes cmd.
const ALLOWED = {
	core: [],
	event: ['core'],
	http: ['core'],
	db: ['event', 'core'],	// each pool worker's connection (vh_dbworker)
	store: ['core'],
	domain: ['db', 'store', 'event', 'core'],
	media: ['domain', 'db', 'store', 'event', 'core'],
	api: ['media', 'domain', 'db', 'store', 'event', 'http', 'core'],
	cmd: ['cmd', 'api', 'media', 'domain', 'db', 'store', 'event', 'http',
	    'core'],
};

// External headers a layer must never include, with the reason.
const BANNED = {
	http: { 'jansson.h': 'http speaks no JSON', 'libpq-fe.h': 'http speaks no SQL' },
	store: { 'libpq-fe.h': 'the blob store knows no database' },
	core: { 'libpq-fe.h': 'core knows no database' },
	event: { 'libpq-fe.h': 'the pool knows no database (lib/db/vh_dbworker.h does)' },
};

// Headers made by the build, not found in the tree.
const GENERATED = { 'vh_version.h': 'cmd' };

// Includes that break a rule today and are fixed by the other half of issue 9
// (the job queue moves to lib/db). Each entry must still occur: when it is
// fixed the test says so, so the list only shrinks.
const PENDING = [
];

// Cycles known today, with who removes them; like PENDING, each must still
// occur. A cycle is named by its modules (.c files), sorted.
const PENDING_CYCLES = [
];

const top = path.resolve(process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..'));
const rel = (f) => path.relative(top, f);

function walk(dir, out = []) {
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		if (e.isDirectory()) walk(p, out);
		else if (/\.[ch]$/.test(e.name)) out.push(p);
	}
	return out;
}

function layerOf(file) {
	const parts = rel(file).split(path.sep);
	if (parts[0] === 'cmd') return 'cmd';
	if (parts[0] === 'lib' && parts.length === 3) return parts[1];
	return null;
}

const files = [...walk(path.join(top, 'lib')), ...walk(path.join(top, 'cmd'))].sort();
const problems = [];

// Headers by bare name (lib/ is on the include path per layer; cmd headers
// are found next to their includer).
const headers = new Map();
for (const f of files) {
	if (!f.endsWith('.h')) continue;
	const layer = layerOf(f);
	if (layer === null) {
		problems.push(`${rel(f)}: a header outside lib/<layer>/ or cmd/`);
		continue;
	}
	const name = path.basename(f);
	if (layer !== 'cmd' && headers.has(name))
		problems.push(`${rel(f)}: header name also used by ${rel(headers.get(name))}`);
	if (layer !== 'cmd') headers.set(name, f);
}
for (const l of Object.keys(ALLOWED))
	if (l !== 'cmd' && !fs.existsSync(path.join(top, 'lib', l)))
		problems.push(`lib/${l}: a layer named in the arrows has no folder`);

const strip = (s) => s.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/\/\/.*$/gm, '');

// Function definitions per .c file ("type\nname(" or "type name(" at
// column 0), declarations per header.
const defines = new Map();	// function name -> set of .c files
const text = new Map();
for (const f of files) {
	const t = strip(fs.readFileSync(f, 'utf8'));
	text.set(f, t);
	if (!f.endsWith('.c')) continue;
	for (const m of t.matchAll(/^(?:[A-Za-z_][\w \t*]*[\s*])?(vh_\w+)\s*\([^;]*?\)\s*\{/gm)) {
		if (!defines.has(m[1])) defines.set(m[1], new Set());
		defines.get(m[1]).add(f);
	}
}
const owners = new Map();	// header file -> set of .c files implementing it
for (const f of files) {
	if (!f.endsWith('.h')) continue;
	const own = new Set();
	for (const m of text.get(f).matchAll(/\b(vh_\w+)\s*\(/g))
		for (const c of defines.get(m[1]) ?? []) own.add(c);
	owners.set(f, own);
}

// A header implemented by several .c files (vh_indicators.h, vh_api.h,
// vh_audio_int.h) makes them one module: merge them under the first.
const parent = new Map();
const find = (f) => { while (parent.has(f) && parent.get(f) !== f) f = parent.get(f); return f; };
for (const own of owners.values()) {
	const [first, ...rest] = [...own].sort();
	for (const c of rest) { const a = find(first), b = find(c); if (a !== b) parent.set(b, a); }
}
for (const [h, own] of owners) owners.set(h, new Set([...own].map(find)));

// The includes.
const edges = new Map();	// module -> Map(module -> "file:line")
const pendingSeen = new Set();
for (const f of files) {
	const layer = layerOf(f);
	if (layer === null) continue;
	const lines = fs.readFileSync(f, 'utf8').split('\n');
	lines.forEach((line, i) => {
		const m = line.match(/^\s*#\s*include\s*([<"])([^>"]+)[>"]/);
		if (!m) return;
		const where = `${rel(f)}:${i + 1}`;
		const name = m[2];
		const banned = BANNED[layer]?.[path.basename(name)];
		if (banned) problems.push(`${where}: ${layer} includes <${name}>: ${banned}`);
		if (m[1] === '<') return;
		let target = headers.get(name);
		if (layer === 'cmd' && fs.existsSync(path.join(path.dirname(f), name)))
			target = path.join(path.dirname(f), name);
		let tlayer;
		if (target) tlayer = layerOf(target);
		else if (GENERATED[name]) tlayer = GENERATED[name];
		else {
			problems.push(`${where}: "${name}" is not a header of lib/ or cmd/`);
			return;
		}
		if (tlayer !== layer && !ALLOWED[layer]?.includes(tlayer)) {
			const p = PENDING.find((e) => e.file === rel(f) && e.header === name);
			if (p) pendingSeen.add(p);
			else problems.push(`${where}: ${layer} includes "${name}" (${tlayer}); ${layer} may include only ${[layer, ...ALLOWED[layer]].join(', ')}`);
		}
		if (!target) return;
		// Module edges: from this file's module to the header's implementers
		// (or to the header itself when it has none).
		const from = f.endsWith('.h') ? f : find(f);
		const tos = owners.get(target)?.size ? [...owners.get(target)] : [target];
		for (const to of tos) {
			if (to === from) continue;
			if (!edges.has(from)) edges.set(from, new Map());
			if (!edges.get(from).has(to)) edges.get(from).set(to, where);
		}
	});
}
for (const p of PENDING)
	if (!pendingSeen.has(p))
		problems.push(`${p.file}: no longer includes ${p.header}; drop it from PENDING in tests/layers.mjs`);

// A header's own includes count for every file that includes it: fold the
// edges of a header with owners into those owners (its .c files), so that
// "a.c -> b.h -> c.h" reads "a -> b -> c".
for (const [h, own] of owners) {
	if (!own.size || !edges.has(h)) continue;
	for (const c of own) {
		if (c === h) continue;
		if (!edges.has(c)) edges.set(c, new Map());
		for (const [to, where] of edges.get(h))
			if (to !== c && !edges.get(c).has(to)) edges.get(c).set(to, where);
	}
	edges.delete(h);
}
// A header with no functions of its own (types, inline helpers) stands for
// its own includes: an include of it is an include of what it includes.
for (let changed = true; changed;) {
	changed = false;
	for (const [h, own] of owners) {
		if (own.size) continue;
		const out = edges.get(h) ?? new Map();
		for (const [from, tos] of edges) {
			if (!tos.has(h)) continue;
			const where = tos.get(h);
			tos.delete(h);
			for (const [to, w] of out)
				if (to !== from && !tos.has(to)) tos.set(to, `${where} via ${w}`);
			changed = true;
		}
	}
}
for (const [h, own] of owners) if (!own.size) edges.delete(h);

// Cycles: Tarjan's strongly connected components over the module graph;
// every component of more than one module is a cycle, reported with the
// include lines that close it.
let index = 0;
const idx = new Map(), low = new Map(), onStack = new Set(), stack = [];
const sccs = [];
function strong(v) {
	idx.set(v, index); low.set(v, index); index++;
	stack.push(v); onStack.add(v);
	for (const w of (edges.get(v) ?? new Map()).keys()) {
		if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
		else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
	}
	if (low.get(v) === idx.get(v)) {
		const c = [];
		let w;
		do { w = stack.pop(); onStack.delete(w); c.push(w); } while (w !== v);
		if (c.length > 1) sccs.push(c);
	}
}
for (const v of edges.keys()) if (!idx.has(v)) strong(v);
const cyclesSeen = new Set();
for (const c of sccs) {
	const set = new Set(c);
	const name = c.map(rel).sort().join(' ');
	const known = PENDING_CYCLES.find((p) => p.modules.join(' ') === name);
	if (known) { cyclesSeen.add(known); continue; }
	const arrows = [];
	for (const v of c)
		for (const [w, where] of edges.get(v) ?? [])
			if (set.has(w)) arrows.push(`    ${where} (${rel(v)} -> ${rel(w)})`);
	arrows.sort();
	const shown = arrows.length > 20 ? [...arrows.slice(0, 20), `    … ${arrows.length - 20} more`] : arrows;
	problems.push(`include cycle among ${c.map(rel).sort().join(', ')}:\n${shown.join('\n')}`);
}

for (const p of PENDING_CYCLES)
	if (!cyclesSeen.has(p))
		problems.push(`the cycle among ${p.modules.join(', ')} is gone (or changed); update PENDING_CYCLES in tests/layers.mjs`);

if (problems.length) {
	for (const p of problems) console.log(p);
	console.log(`layers: ${problems.length} problem(s)`);
	process.exit(1);
}
console.log(`layers: ${files.length} files follow the arrows, no include cycle`);
