/** Dollar amounts without binary float noise: 0.001794 + 0.002757 is 0.004551, not 0.0045509999999999995. */

/** `usd` rounded to a ten-billionth of a dollar, far below any per-token price, so sums print as the decimals they are. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e10) / 1e10;
}
