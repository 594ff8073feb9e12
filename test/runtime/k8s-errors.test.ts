import { describe, expect, it } from '@jest/globals';
import { ApiException } from '@kubernetes/client-node';
import {
  describeError,
  isAbortError,
  isConflict,
  isGone,
  isNotFound,
  isUnreachable,
  reasonOf,
} from '../../src/runtime/k8s-errors.js';

// client-node 1.4 puts the raw JSON text of the response into `body`.
function apiException(code: number, reason: string, message: string): ApiException<string> {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });
  return new ApiException(
    code,
    `HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: ${body}`,
    body,
    {},
  );
}

describe('k8s-errors', () => {
  it('reads the reason out of a JSON string body', () => {
    const conflict = apiException(409, 'Conflict', 'the object has been modified');
    expect(reasonOf(conflict)).toBe('Conflict');
    expect(isConflict(conflict)).toBe(true);
    expect(isNotFound(conflict)).toBe(false);
    expect(describeError(conflict)).toBe('409 Conflict: the object has been modified');
  });

  it('does not mistake AlreadyExists (also 409) for a Conflict', () => {
    const exists = apiException(409, 'AlreadyExists', 'leases "x" already exists');
    expect(reasonOf(exists)).toBe('AlreadyExists');
    expect(isConflict(exists)).toBe(false);
  });

  it('falls back to the HTTP code when the body has no Status', () => {
    const notFound = new ApiException(404, 'not found', '<html>404</html>', {});
    expect(isNotFound(notFound)).toBe(true);
    expect(reasonOf(notFound)).toBeUndefined();
    expect(describeError(notFound)).toBe('404: <html>404</html>');
  });

  it('recognises an expired resourceVersion from a watch connect error and from an ERROR event', () => {
    const connectError = Object.assign(new Error('Gone'), { statusCode: 410 });
    const errorEvent = { kind: 'Status', reason: 'Expired', code: 410, message: 'too old resource version' };
    expect(isGone(connectError)).toBe(true);
    expect(isGone(errorEvent)).toBe(true);
    expect(describeError(errorEvent)).toBe('410 Expired: too old resource version');
    expect(isGone(apiException(500, 'InternalError', 'boom'))).toBe(false);
  });

  it('tells our own cancellation apart from other failures', () => {
    const abort = new Error('The user aborted a request.');
    abort.name = 'AbortError';
    expect(isAbortError(abort)).toBe(true);
    expect(isAbortError(new Error('socket hang up'))).toBe(false);
    expect(describeError('plain text')).toBe('plain text');
  });

  it('tells a request that reached no server apart from one the server answered', () => {
    // node-fetch's FetchError carries the socket error's code; callers may wrap it as a cause.
    const refused = Object.assign(new Error('request to https://127.0.0.1:6443 failed'), {
      type: 'system',
      code: 'ECONNREFUSED',
    });
    expect(isUnreachable(refused)).toBe(true);
    expect(isUnreachable(new Error('list failed', { cause: refused }))).toBe(true);
    expect(isUnreachable(Object.assign(new Error('no route'), { code: 'EHOSTUNREACH' }))).toBe(true);
    // A reset or a timeout may come from a server that got the request: not "unreachable".
    expect(isUnreachable(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isUnreachable(apiException(503, 'ServiceUnavailable', 'not ready'))).toBe(false);
    expect(isUnreachable(undefined)).toBe(false);
  });
});
