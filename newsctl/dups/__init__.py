"""Near-duplicate stories: MinHash signatures over normalised character shingles, LSH candidates,
and a check of each candidate pair that tells a repost from a templated story with other figures.

- `normalise`: the story text of a post without boilerplate (footers, source and editor lines,
  links, `【转载】` marks), and the figures it states;
- `signature`: shingles, their hashes and MinHash signatures (datasketch's affine32 scheme);
- `compare`: the verdict on one candidate pair (repost, or the same template with other figures);
- `store`: signatures and exact-copy keys kept in `.newsctl/cache/dups/`, updated incrementally;
- `finder`: groups over the archive (`newsctl dups`) and the check of given posts against the
  whole archive (`validate FILE...`).

The pre-commit path imports neither numpy nor datasketch (their import costs more than the
whole check); see docs/dups.md.
"""
