import ArgumentParser
import Capture
import ToolSupport

/// Where packets come from, for tools that read captures or watch interfaces: `-r FILE` (several) or
/// `-i IFACE` (several), a BPF filter (`--filter`, or after the options as tcpdump takes it), `-w FILE` to keep
/// what a live run saw, and `--duration`/`-c` so live runs always end. tcpdump's `-n` is accepted: vipscope
/// never resolves names.
public struct CaptureOptions: ParsableArguments {
    @Option(name: [.customShort("r"), .customLong("read")], help: ArgumentHelp(
        "A pcap or pcapng file to read ('-' for standard input). Repeat for several files.", valueName: "file"))
    public var files: [String] = []

    @Option(name: [.customShort("i"), .customLong("interface")], help: ArgumentHelp(
        "Capture live on this interface (root or CAP_NET_RAW). Repeat for several.", valueName: "iface"))
    public var interfaces: [String] = []

    @Option(name: [.customShort("f"), .customLong("filter")], help: ArgumentHelp(
        "An extra BPF filter expression, as tcpdump takes it (or give it after the options).", valueName: "expr"))
    public var filterOption: String?

    @Argument(help: ArgumentHelp(
        "A BPF filter expression after the options, as tcpdump takes it (e.g. host 203.0.113.1).",
        valueName: "expression"))
    public var filterWords: [String] = []

    @Option(name: [.customShort("w"), .customLong("write")], help: ArgumentHelp(
        "With -i: also write every frame captured to this file (pcapng if it ends in .pcapng, else pcap).",
        valueName: "file"))
    public var writeFile: String?

    @Flag(name: .customShort("n"), help: "Accepted for tcpdump's habit: names are never resolved anyway.")
    public var numeric = false

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Stop a live capture after this many seconds (up to 10 years).", valueName: "seconds"))
    public var duration: Double?

    // Read as text and checked in validate(), so that a value no integer holds (`1e300`,
    // `99999999999999999999`) is answered with the range, like `-5` and `0`, not with "is invalid".
    @Option(name: [.customShort("c"), .customLong("count")], parsing: .unconditional,
        help: ArgumentHelp("Stop after this many frames.", valueName: "frames"))
    public var countText: String?

    /// `-c`/`--count`, checked by validate().
    public var count: Int? { countText.flatMap { Int($0.hasPrefix("+") ? String($0.dropFirst()) : $0) } }

    @Option(parsing: .unconditional, help: ArgumentHelp("Bytes to capture per frame in live mode.", valueName: "bytes"))
    public var snaplen: Int = 262_144

    public init() {}

    public var isLive: Bool { !interfaces.isEmpty }

    /// The extra filter, from `--filter` or the words after the options.
    public var filter: String? { filterOption ?? (filterWords.isEmpty ? nil : filterWords.joined(separator: " ")) }

    /// The checks a tool whose only inputs are these makes in its own validate(): a file or an interface, and
    /// -w only with -i. (Not in this group's validate(), which runs first: bgpdecode also reads MRT files, with
    /// --mrt, and writes the frames of a file its filter keeps with -r FILE -w OUT, as tcpdump does.)
    public func requireSource() throws(ValidationError) {
        if files.isEmpty && interfaces.isEmpty {
            throw ValidationError("Give a capture to read with -r FILE, or an interface to watch with -i IFACE.")
        }
        if writeFile != nil && interfaces.isEmpty {
            throw ValidationError(
                "-w keeps what a live capture saw: use it with -i (a file read with -r is kept already).")
        }
    }

    public func validate() throws {
        if !files.isEmpty && !interfaces.isEmpty {
            throw ValidationError("Read files (-r) or capture live (-i), not both in one run.")
        }
        if let countText {
            guard let count else {
                if case .failure(let bad) = NumericOption.integer(countText, option: "--count", range: 1...Int.max) {
                    throw ValidationError(bad.message)
                }
                return
            }
            try OptionRange.integer(count, option: "--count", in: 1...Int.max, unit: "frames")
        }
        try OptionRange.seconds(duration, option: "--duration", minimum: 0.001)
        if duration != nil && interfaces.isEmpty {
            throw ValidationError("--duration applies to live capture (-i) only.")
        }
        try OptionRange.integer(snaplen, option: "--snaplen", in: 64...262_144, unit: "bytes")
        if filterOption != nil && !filterWords.isEmpty {
            throw ValidationError("Give the filter once: with --filter or after the options, not both.")
        }
        if let writeFile {
            if writeFile == "-" {
                throw ValidationError("-w - would mix the capture with the events on standard output: name a file.")
            }
        }
    }

    /// The `-w` recorder for the opened live sources (nil without `-w`).
    public func makeRecorder(for sources: [PacketSource]) throws(CaptureError) -> CaptureRecorder? {
        guard let writeFile else { return nil }
        return try CaptureRecorder(
            path: writeFile, interfaces: sources.map { ($0.name, $0.linkType) }, snapshotLength: snaplen)
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

    /// Open an interface with the filter applied. `batchTimeout`: instead of immediate mode (a wake-up per frame),
    /// let the kernel hand over frames in blocks, each within this time of its first frame (libpcap's buffer
    /// timeout, TPACKET_V3): the way tcpdump captures. nil keeps immediate mode.
    public func openInterface(_ name: String, baseFilter: String? = nil, batchTimeout: Duration? = nil)
        throws(CaptureError) -> PacketSource
    {
        var options = LiveOptions(snapshotLength: snaplen)
        if let batchTimeout {
            options.immediate = false
            options.batchTimeout = batchTimeout
        }
        let source = try PacketSource.openLive(name, options: options)
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
