// "Did you mean ...?" for typed names: commands, account slugs, group names.

/** Levenshtein distance, capped: anything beyond `max` returns max + 1. */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > max) return max + 1;
    previous = current;
  }
  return Math.min(previous[b.length] ?? max + 1, max + 1);
}

/** The candidates closest to `typed`, best first; prefixes count as close. */
export function closest(typed: string, candidates: readonly string[], limit = 3): string[] {
  const needle = typed.toLowerCase();
  const maxDistance = needle.length <= 4 ? 1 : 2;
  return candidates
    .map((candidate) => {
      const c = candidate.toLowerCase();
      const distance =
        c.startsWith(needle) && needle.length >= 2 ? 0.5 : editDistance(needle, c, maxDistance);
      return { candidate, distance };
    })
    .filter((x) => x.distance <= maxDistance)
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, limit)
    .map((x) => x.candidate);
}

/** " Did you mean acme?" or "" */
export function didYouMean(typed: string, candidates: readonly string[]): string {
  const best = closest(typed, candidates);
  if (best.length === 0) return '';
  return ` Did you mean ${best.join(' or ')}?`;
}
