/** Strongly connected components of a directed graph (Tarjan's algorithm). */

/**
 * The strongly connected components of the graph on `ids` (edges in `out`
 * to nodes outside `ids` are ignored), each listed in the order of `ids`.
 */
export function stronglyConnected(ids: readonly string[], out: ReadonlyMap<string, readonly string[]>): string[][] {
  const nodes = new Set(ids);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (id: string): void => {
    index.set(id, index.size);
    low.set(id, index.get(id)!);
    stack.push(id);
    onStack.add(id);
    for (const to of out.get(id) ?? []) {
      if (!nodes.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(id, Math.min(low.get(id)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(id, Math.min(low.get(id)!, index.get(to)!));
    }
    if (low.get(id) === index.get(id)) {
      const component: string[] = [];
      for (let top = stack.pop(); top !== undefined; top = top === id ? undefined : stack.pop()) {
        onStack.delete(top);
        component.push(top);
      }
      components.push(component.sort((a, b) => ids.indexOf(a) - ids.indexOf(b)));
    }
  };
  for (const id of ids) if (!index.has(id)) visit(id);
  return components;
}
