import CPrefetch
import PacketCore

/// Every path's summary (`BGPPath.summary`) as bytes, rendered once per path and kept in blocks of 1 MiB,
/// for the renderers that print one per route: `--table` and announce lines copy them from here.
///
/// Why blocks: each is filled and never regrown (a doubling array held its old and new buffers at once,
/// 16 MB more at the peak of a full table), and a line copies from a block without retaining an array per
/// summary. Why a class: the analyzer and the renderer share one (`BGPAnalyzer.pathSummaries`): the analyzer
/// renders a new path's summary from the attributes it has just decoded to validate them, so no summary
/// costs a second decode (a fifth of the instructions of a full table's `--table`, callgrind).
public final class PathSummaries {
    private(set) var blocks: [[UInt8]] = []
    /// By path id (ids are dense): block << 48 | offset << 24 | length; .max: not rendered yet.
    private var spans: [UInt64] = []
    private var scratch = OutputBuffer()

    public init() {}

    /// Where the summary of `path` is: rendered now (from `attributes` when given, else decoding them) unless
    /// it already was.
    @inline(__always) @discardableResult
    func span(_ path: BGPPath) -> UInt64 {
        rendered(path.id) ?? render(path, attributes: nil)
    }

    /// Where the summary of path `id` is, if it was rendered (no path object needed: a table's lines look
    /// their paths up by id).
    @inline(__always)
    func rendered(_ id: Int32) -> UInt64? {
        let index = Int(id)
        guard index >= 0, index < spans.count, spans[index] != .max else { return nil }
        return spans[index]
    }

    /// Start loading the summary of path `id` into the cache, if it was rendered (a hint; see
    /// `BGPRouteTable.prefetch`).
    @inline(__always)
    func prefetch(_ id: Int32) {
        guard let span = rendered(id) else { return }
        let (block, start, _) = Self.parts(span)
        blocks[block].withUnsafeBufferPointer { bytes in
            if let base = bytes.baseAddress, start < bytes.count { vipscope_prefetch(base + start) }
        }
    }

    /// `span(path)`, rendered from `attributes` (the analyzer's decode) when it is not there yet.
    @discardableResult
    func span(_ path: BGPPath, attributes: BGPAttributes) -> UInt64 {
        rendered(path.id) ?? render(path, attributes: attributes)
    }

    private func render(_ path: BGPPath, attributes: BGPAttributes?) -> UInt64 {
        let index = Int(path.id)
        scratch.discardPending()
        if let attributes {
            path.appendSummary(of: attributes, to: &scratch)
        } else {
            path.appendSummary(to: &scratch)
        }
        let length = scratch.count
        if blocks.isEmpty || blocks[blocks.count - 1].count + length > blocks[blocks.count - 1].capacity {
            var block: [UInt8] = []
            block.reserveCapacity(Swift.max(1 << 20, length))
            blocks.append(block)
        }
        let last = blocks.count - 1
        let span = UInt64(last) << 48 | UInt64(blocks[last].count) << 24 | UInt64(length)
        scratch.withPendingBytes { blocks[last].append(contentsOf: $0) }
        guard index >= 0 else { return span }
        if index >= spans.count { spans.append(contentsOf: repeatElement(.max, count: index + 1 - spans.count)) }
        spans[index] = span
        return span
    }

    /// Make room for the spans of `count` paths at once (growing one path at a time reallocated the
    /// spans as often as their size doubled, each old buffer left on the heap).
    func reserve(paths count: Int) {
        if count > spans.count { spans.append(contentsOf: repeatElement(.max, count: count - spans.count)) }
    }

    /// The block, offset and length a span names.
    @inline(__always)
    static func parts(_ span: UInt64) -> (block: Int, start: Int, length: Int) {
        (Int(truncatingIfNeeded: span >> 48), Int(truncatingIfNeeded: span >> 24 & 0xFF_FFFF),
            Int(truncatingIfNeeded: span & 0xFF_FFFF))
    }

    /// The summary of `path` as an array.
    func bytes(_ path: BGPPath) -> [UInt8] {
        let (block, start, length) = Self.parts(span(path))
        return Array(blocks[block][start..<start + length])
    }
}
