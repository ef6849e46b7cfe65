/**
 * The route table as a pure function of method and path: each documented route finds its
 * handler with the path captures still encoded, a known path with the wrong method reports
 * the allowed methods (405), and anything else is not found (404).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchRoute } from '../../src/api/routes.js';

function captures(method: string, path: string): readonly string[] {
  const match = matchRoute(method, path);
  if (match.kind !== 'found') assert.fail(`${method} ${path}: ${match.kind}`);
  return match.captures;
}

test('every documented route is found', () => {
  const routes: [string, string][] = [
    ['GET', '/v1/kv'],
    ['GET', '/v1/kv/k'],
    ['PUT', '/v1/kv/k'],
    ['DELETE', '/v1/kv/k'],
    ['POST', '/v1/txn'],
    ['POST', '/v1/lease'],
    ['GET', '/v1/lease/7'],
    ['DELETE', '/v1/lease/7'],
    ['POST', '/v1/lease/7/keepalive'],
    ['GET', '/v1/watch'],
    ['GET', '/v1/status'],
    ['GET', '/v1/health'],
  ];
  for (const [method, path] of routes) captures(method, path);
});

test('a key is the whole rest of the path, slashes and escapes included', () => {
  assert.deepEqual(captures('GET', '/v1/kv/a/b/c'), ['a/b/c']);
  assert.deepEqual(captures('PUT', '/v1/kv/a%2Fb%FF'), ['a%2Fb%FF']);
  assert.deepEqual(captures('DELETE', '/v1/kv/dir/'), ['dir/']);
  assert.deepEqual(captures('POST', '/v1/lease/42/keepalive'), ['42']);
});

test('the wrong method lists the allowed ones; unknown paths are not found', () => {
  assert.deepEqual(matchRoute('POST', '/v1/kv/k'), { kind: 'wrongMethod', allowed: ['GET', 'PUT', 'DELETE'] });
  assert.deepEqual(matchRoute('GET', '/v1/txn'), { kind: 'wrongMethod', allowed: ['POST'] });
  assert.deepEqual(matchRoute('PUT', '/v1/lease/7/keepalive'), { kind: 'wrongMethod', allowed: ['POST'] });
  for (const path of ['/', '/v1', '/v1/kv/', '/v2/kv/k', '/v1/statusx', '/v1/lease/7/other']) {
    assert.deepEqual(matchRoute('GET', path), { kind: 'notFound' }, path);
  }
});
