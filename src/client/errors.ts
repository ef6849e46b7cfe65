/**
 * Every failure a QuorateClient reports: the API's own error codes (wire.ts ErrorJson: e.g.
 * key_not_found, compare_failed, no_quorum, outcome_unknown) with the server's message, and
 * the client's codes for what happens before an answer arrives:
 *
 * - `unreachable`: no endpoint accepted a connection (the message lists each one tried);
 * - `outcome_unknown`: a write's connection broke after it was sent, so it may have happened;
 * - `timeout`: no answer within the request timeout (a write may still happen);
 * - `bad_response`: the answer was not the API's JSON;
 * - `bad_endpoint`: an endpoint is not an http:// URL.
 */
export class QuorateClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status, or null when no answer arrived. */
    readonly status: number | null = null,
    /** The store's revision when the server sent it (compare_failed does). */
    readonly revision: number | null = null,
  ) {
    super(message);
    this.name = 'QuorateClientError';
  }
}
