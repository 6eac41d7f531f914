/** The known word closest to a mistyped one, if it is close enough to be what was meant. */
export function closest(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  // A shortened name ("prod" for "production") is as likely a slip as a typo.
  const extended = lower.length >= 3 ? known.find((candidate) => candidate.toLowerCase().startsWith(lower)) : undefined;
  if (extended) return extended;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= tolerance ? best : undefined;
}

/** "; did you mean X?" or, when nothing is close, the list of what is allowed. */
export function suggestion(word: string, known: readonly string[], quote = true): string {
  const match = closest(word, known);
  const show = (text: string) => (quote ? `"${text}"` : text);
  return match ? `; did you mean ${show(match)}?` : `; expected one of: ${known.map(show).join(', ')}.`;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("bpg" -> "bgp" is 1). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: columns }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < columns; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
