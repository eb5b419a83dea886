// The codes of an authenticator app, as the service computes them (RFC 6238).
import { createHmac } from 'node:crypto';

// RFC 6238's code of SECRET (base32) for the step OFFSET steps from now.
export function totp(secret, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offset));
  const mac = createHmac('sha1', key).update(counter).digest();
  const o = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// Waits, when the current 30-second step ends within 5 s, for the next one.
export async function steady() {
  const left = 30000 - (Date.now() % 30000);
  if (left < 5000) await new Promise((r) => setTimeout(r, left + 50));
}
