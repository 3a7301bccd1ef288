/**
 * `12,345`: a number with its thousands grouped as `toLocaleString('en-US')`
 * groups them (up to three decimals), without loading ICU's locale data, which
 * costs a short command about 20 ms the first time a locale is used.
 */
export function thousands(n: number): string {
  // toFixed writes 1e21 and above with an exponent; such counts are not worth a formatter of their own.
  if (!Number.isFinite(n) || Math.abs(n) >= 1e21) return n.toLocaleString('en-US');
  const [whole = '0', fraction] = Math.abs(n).toFixed(3).replace(/\.?0+$/, '').split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const text = fraction ? `${grouped}.${fraction}` : grouped;
  return n < 0 || Object.is(n, -0) ? `-${text}` : text;
}
