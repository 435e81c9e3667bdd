/**
 * Go's time.Duration String() (e.g. 1.5s, 100ms, 2m30s, 1h0m0s): geerpc's timeout errors quote the
 * duration this way ("expect within 1s"), and Go peers print them the same.
 */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(Math.round(ns));
  let out: string;
  if (u < 1e9) {
    if (u < 1e3) out = `${u}ns`;
    else if (u < 1e6) out = `${frac(u, 3)}µs`;
    else out = `${frac(u, 6)}ms`;
  } else {
    out = `${frac(u % 6e10, 9)}s`;
    u = Math.floor(u / 6e10);
    if (u > 0) {
      out = `${u % 60}m${out}`;
      u = Math.floor(u / 60);
      if (u > 0) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** v / 10^prec with the fraction's trailing zeros (and a bare dot) dropped. */
function frac(v: number, prec: number): string {
  const p = 10 ** prec;
  const whole = Math.floor(v / p);
  const f = String(v % p).padStart(prec, '0').replace(/0+$/, '');
  return f === '' ? String(whole) : `${whole}.${f}`;
}

export const msToNs = (ms: number): number => Math.round(ms * 1e6);
export const nsToMs = (ns: number): number => ns / 1e6;
