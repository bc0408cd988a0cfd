// trustcore/fetch: a fetch that signs every request it sends (docs/DESIGN.md §10.1).
import type { HttpProfile, WorkerKey } from './trustcore'

declare namespace signedFetch {
  /** A function with fetch's signature. */
  export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

  export interface SignedFetchOptions {
    /** `'rfc9421'` (default): RFC 9421 message signatures; `'legacy'`: trust-core 0.1's `X-EP-*` headers. */
    profile?: HttpProfile
    /** What sends the signed request (default: the global `fetch`). */
    fetch?: Fetch
  }

  export const signedFetch: SignedFetch
  export { signedFetch as default }
}

/**
 * A fetch that signs the exact URL (without its fragment), method and body bytes it sends, with
 * the holder's key and token, then calls `fetchImpl` (default: the global fetch). Bodies: a string,
 * Buffer / Uint8Array (any ArrayBufferView), ArrayBuffer, URLSearchParams, Blob or FormData; a
 * stream is refused (a TypeError: the proof covers a digest of the whole body). The signature's
 * headers replace any of the same name (`Authorization` among them).
 */
declare function signedFetch(key: WorkerKey, token: string, fetchImpl?: signedFetch.Fetch | null, options?: Omit<signedFetch.SignedFetchOptions, 'fetch'>): signedFetch.Fetch
declare function signedFetch(key: WorkerKey, token: string, options: signedFetch.SignedFetchOptions): signedFetch.Fetch
type SignedFetch = typeof signedFetch

export = signedFetch
