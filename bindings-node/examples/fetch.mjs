import { WorkerKey } from 'trustcore'
import signedFetch from 'trustcore/fetch'

// the holder's key (the one its token binds) and the token the issuer minted for it
const worker = WorkerKey.fromSecretHex(process.env.HOLDER_SECRET_HEX)
const fetch = signedFetch(worker, process.env.TOKEN) // RFC 9421; signedFetch(worker, token, { profile: 'legacy' }) for X-EP-*

const res = await fetch(`${process.env.API}/lease/gpu`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ episode: 'e1' }), // signed as the bytes sent: a string, Buffer, ArrayBuffer, URLSearchParams, Blob, FormData
})
console.log(res.status, await res.json())
