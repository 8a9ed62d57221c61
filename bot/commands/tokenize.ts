// Splits what a person typed into words, keeping quoted phrases together ("Acme Corp", “smart quotes”
// from phones and Slack included), also as an option's value (city="New York").

export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern = /([A-Za-z_]+=)?(?:"([^"]*)"|“([^”]*)”|'([^']*)')|(\S+)/g;
  for (const match of text.normalize('NFKC').matchAll(pattern)) {
    tokens.push(match[5] ?? (match[1] ?? '') + (match[2] ?? match[3] ?? match[4] ?? '').trim());
  }
  return tokens;
}
