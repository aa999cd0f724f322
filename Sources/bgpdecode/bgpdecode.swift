import ArgumentParser
import CMalloc
import Glibc
import ToolSupport

/// `bgpdecode`: BGP from captures and MRT files, decoded with each session's negotiated context, and the
/// table every speaker announced rebuilt from it (`decode`, the default subcommand); or a passive BGP peer
/// that speakers announce to (`listen`).
///
/// Two real subcommands, so that the manual page and the shell completions know every option of both. The
/// decode options live in `decode`, not here: a parent's options are parsed before a subcommand's, so options
/// here named like listen's (--peer, --table, --json, --expect-prefix) would take listen's values.
@main
struct BGPDecode: ParsableCommand {
    // Wrapped by hand within 78 columns (see Decode.configuration).
    static let configuration = CommandConfiguration(
        commandName: "bgpdecode",
        abstract: "Decode BGP from captures and MRT files; rebuild each speaker's table.",
        usage: """
            bgpdecode [decode] (-r <file> ... | -i <iface> | --mrt <file>)
                      [<options>] [<expression>]
            bgpdecode listen --local-as <asn> --router-id <id> ...
            """,
        discussion: """
            Without a subcommand word, bgpdecode decodes: bgpdecode -r FILE is
            bgpdecode decode -r FILE, and bgpdecode --help shows its options. The
            listen subcommand is a passive BGP speaker that speakers peer with (see
            bgpdecode listen --help).
            """,
        version: VipscopeVersion.string,
        subcommands: [Decode.self, Listen.self],
        defaultSubcommand: Decode.self)

    /// Whether valgrind runs us (its preload library is in LD_PRELOAD).
    static var isUnderValgrind: Bool {
        guard let preload = getenv("LD_PRELOAD") else { return false }
        return String(cString: preload).contains("vgpreload")
    }

    /// `bgpdecode --help` alone asks for the decode options and examples (what `bgpdecode -r FILE` takes), not
    /// for this two-line list of subcommands: `bgpdecode help` still shows it.
    static let helpWords: Set<String> = ["-h", "--help", "-help", "--help-hidden"]

    static func main() {
        // Large buffers (a million-route table, its sort buffer, summaries) are mapped and unmapped on
        // their own, so memory freed goes back to the system. Why: glibc raises this threshold to the size
        // of the last large block freed, after which blocks up to 32 MB came from the heap and stayed
        // resident once freed (a full table's sort buffer and a regrown arena: 35 MB of the peak).
        // Not under valgrind: its emulated heap is capped, and once it was full glibc with a fixed threshold
        // failed allocations instead of mapping them, so callgrind aborted on a 100,000-prefix file; with
        // glibc's default it runs to the end.
        if !Self.isUnderValgrind { _ = mallopt(M_MMAP_THRESHOLD, 1 << 20) }
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.count == 1, Self.helpWords.contains(arguments[0]) { arguments = ["decode"] + arguments }
        // A usage error of listen points at listen's help, which has its options and examples.
        let help = arguments.first == "listen" ? "bgpdecode listen" : nil
        CommandRunner.main(Self.self, arguments, helpCommand: help)
    }
}
