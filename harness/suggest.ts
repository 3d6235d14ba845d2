import { distance } from 'fastest-levenshtein';

/** The candidate a mistyped word most likely meant (at most a third of it edited), for a "did you mean" hint. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: { candidate: string; d: number } | undefined;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d > 0 && d <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || d < best.d)) best = { candidate, d };
  }
  return best?.candidate;
}
