# Test-only Jekyll plugin (copied into the _plugins/ of a site the differential tests build).
# It makes the body's output exactly the Liquid output (no Markdown conversion), and writes,
# after rendering, what Jekyll publishes for every post and page to $NEWSCTL_DUMP as JSON.
require "json"

module Jekyll
  module Converters
    class Markdown
      # `markdown: NewsctlVerbatim` in _config.yml: the published body is the Liquid output as is.
      class NewsctlVerbatim
        def initialize(config); end

        def convert(content)
          content
        end
      end
    end
  end
end

module NewsctlDump
  # With NEWSCTL_CATCH set, an error that would stop the build is recorded against its file and
  # the build goes on, so that one build finds every breaker (the test then builds each breaker
  # alone, without this, to confirm that it really stops Jekyll).
  ABORTS = {}

  def self.record(path, error)
    ABORTS[path] = "#{error.class}: #{error.message}"
    File.write("#{ENV.fetch("NEWSCTL_DUMP")}.aborts", JSON.generate(ABORTS))
  end

  def self.relative(path, source)
    path.sub(%r!\A#{Regexp.escape(source)}/?!, "")
  end
  def self.shown(value)
    Liquid::Template.parse("{{ v }}").render!({ "v" => value })
  end

  def self.entry(doc, kind, source)
    data = doc.data
    date = data["date"]
    row = {
      "path" => kind == "post" ? doc.relative_path : relative(doc.path, source),
      "kind" => kind,
      "title" => data["title"].is_a?(String) || data["title"].nil? ? data["title"] : data["title"].to_s,
      "title_class" => data["title"].class.name,
      "title_shown" => shown(data["title"]),
      "categories" => data["categories"],
      "tags" => data["tags"],
      "url" => doc.url,
      "published_key" => data.key?("published") ? data["published"].to_s : nil,
      "body" => doc.content,
    }
    if date.respond_to?(:to_time)
      t = date.to_time.localtime
      row["date"] = t.strftime("%Y-%m-%d %H:%M:%S %z")
      row["epoch"] = t.to_i
    else
      row["date"] = date.nil? ? nil : date.to_s
      row["epoch"] = nil
    end
    row["categories"] = row["categories"].map(&:to_s) if row["categories"].is_a?(Array)
    row["tags"] = row["tags"].map(&:to_s) if row["tags"].is_a?(Array)
    row
  end
end

if ENV["NEWSCTL_CATCH"]
  Jekyll::Renderer.prepend(Module.new do
    def run
      super
    rescue StandardError => e
      NewsctlDump.record(NewsctlDump.relative(document.path, site.source), e)
      ""
    end
  end)
  Jekyll::Document.prepend(Module.new do
    def handle_read_error(error)
      super
    rescue Jekyll::Errors::FatalException => e
      NewsctlDump.record(NewsctlDump.relative(path, site.source), e)
      @data = { "published" => false } # out of the rest of the build, as if it had stopped here
    end
  end)
end

Jekyll::Hooks.register :site, :post_render do |site|
  rows = site.posts.docs.map { |doc| NewsctlDump.entry(doc, "post", site.source) }
  site.pages.each do |page|
    next unless page.path.end_with?(*%w(.md .markdown .mkd .mkdn .mkdown .html))
    rows << NewsctlDump.entry(page, "page", site.source)
  end
  rows.reject! { |row| NewsctlDump::ABORTS.key?(row["path"]) }
  File.write(ENV.fetch("NEWSCTL_DUMP"), JSON.pretty_generate({ "rows" => rows, "aborts" => NewsctlDump::ABORTS }))
end
