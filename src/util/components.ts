/** Strongly connected components of a directed graph (Tarjan's algorithm, iterative). */

/**
 * The strongly connected components of the graph on `ids` (edges in `out`
 * to nodes outside `ids` are ignored), each listed in the order of `ids`.
 * Components come in reverse topological order: every component is listed
 * after all the components it has an edge to. The walk keeps its own stack,
 * so a chain of any length cannot overflow the call stack.
 */
export function stronglyConnected(ids: readonly string[], out: ReadonlyMap<string, readonly string[]>): string[][] {
  const position = new Map(ids.map((id, i) => [id, i]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  /** The depth-first walk: each frame is a node and the next of its edges to follow. */
  const frames: Array<{ id: string; edge: number }> = [];
  const enter = (id: string) => {
    index.set(id, index.size);
    low.set(id, index.get(id)!);
    stack.push(id);
    onStack.add(id);
    frames.push({ id, edge: 0 });
  };
  for (const root of ids) {
    if (index.has(root)) continue;
    enter(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const links = out.get(frame.id) ?? [];
      if (frame.edge < links.length) {
        const to = links[frame.edge++]!;
        if (!position.has(to)) continue;
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) low.set(frame.id, Math.min(low.get(frame.id)!, index.get(to)!));
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === index.get(frame.id)) {
        const component: string[] = [];
        for (let top = stack.pop(); top !== undefined; top = top === frame.id ? undefined : stack.pop()) {
          onStack.delete(top);
          component.push(top);
        }
        components.push(component.sort((a, b) => position.get(a)! - position.get(b)!));
      }
    }
  }
  return components;
}
