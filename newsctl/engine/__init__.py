"""The full-text index, as its own package (docs/search.md). Nothing is imported here: a search
loads only the reader's side (store, postings, reader, querylang, searcher), never Whoosh.

Writing: scan (stat the posts) -> plan (what changed) -> document (read one post into a typed
IndexedDocument) -> builder and workers (new segments, in worker processes) -> updater (the
commit), under lock. codec holds the Whoosh classes at module level and whooshlib the one import
of Whoosh; postings and store the file formats shared by writer and reader.

What the commands use:
- updater: IndexOptions, Summary, update_index (raises lock.IndexBusy); progress: ProgressFactory
- reader: SearchIndex (.run -> Hits: .paths(), .hits() -> [Hit]), Filters, SortOrder,
  find_post_path; store.IndexMissing
- querylang: parse_query, QueryError; searcher: make_filters, make_snippet, spans_of,
  positive_strings, highlight_spans, body_text, parse_when
- status: IndexStatus, index_status
"""
