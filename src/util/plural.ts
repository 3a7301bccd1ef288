/** Counts in prose: `count(1, 'run')` is "1 run", `count(2, 'run')` "2 runs". */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
