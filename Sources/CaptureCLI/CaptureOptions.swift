import ArgumentParser
import Capture
import ToolSupport

/// Where packets come from, for tools that read captures or watch interfaces: `-r FILE` (several) or
/// `-i IFACE` (several), a BPF `--filter`, and `--duration`/`--count` so live runs always end.
public struct CaptureOptions: ParsableArguments {
    @Option(name: [.customShort("r"), .customLong("read")], help: ArgumentHelp(
        "A pcap or pcapng file to read ('-' for standard input). Repeat for several files.", valueName: "file"))
    public var files: [String] = []

    @Option(name: [.customShort("i"), .customLong("interface")], help: ArgumentHelp(
        "Capture live on this interface (root or CAP_NET_RAW). Repeat for several.", valueName: "iface"))
    public var interfaces: [String] = []

    @Option(name: [.customShort("f"), .customLong("filter")], help: ArgumentHelp(
        "An extra BPF filter expression, as tcpdump takes it.", valueName: "expr"))
    public var filter: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Stop a live capture after this many seconds (up to 10 years).", valueName: "seconds"))
    public var duration: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this many frames.", valueName: "frames"))
    public var count: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Bytes to capture per frame in live mode.", valueName: "bytes"))
    public var snaplen: Int = 262_144

    public init() {}

    public var isLive: Bool { !interfaces.isEmpty }

    public func validate() throws {
        if files.isEmpty && interfaces.isEmpty {
            throw ValidationError("Give a capture to read with -r FILE, or an interface to watch with -i IFACE.")
        }
        if !files.isEmpty && !interfaces.isEmpty {
            throw ValidationError("Read files (-r) or capture live (-i), not both in one run.")
        }
        try OptionRange.integer(count, option: "--count", in: 1...Int.max, unit: "frames")
        try OptionRange.seconds(duration, option: "--duration", minimum: 0.001)
        if duration != nil && interfaces.isEmpty {
            throw ValidationError("--duration applies to live capture (-i) only.")
        }
        if snaplen < 64 || snaplen > 262_144 { throw ValidationError("--snaplen must be between 64 and 262144 bytes.") }
    }

    /// The live-capture deadline implied by `--duration`.
    public var deadline: ContinuousClock.Instant? {
        duration.map { ContinuousClock.now + OptionRange.duration(seconds: $0) }
    }

    /// Open a file with the filter applied (`base` and `--filter` are combined with `and`).
    public func openFile(_ path: String, baseFilter: String? = nil) throws(CaptureError) -> PacketSource {
        let source = try PacketSource.openFile(path)
        if let expression = combinedFilter(baseFilter) { try source.setFilter(expression) }
        return source
    }

    /// Open an interface with the filter applied.
    public func openInterface(_ name: String, baseFilter: String? = nil) throws(CaptureError) -> PacketSource {
        let source = try PacketSource.openLive(name, options: LiveOptions(snapshotLength: snaplen))
        if let expression = combinedFilter(baseFilter) { try source.setFilter(expression) }
        return source
    }

    public func combinedFilter(_ base: String?) -> String? {
        switch (base, filter) {
        case (nil, nil): nil
        case (let base?, nil): base
        case (nil, let extra?): extra
        case (let base?, let extra?): "(\(base)) and (\(extra))"
        }
    }
}
