import ArgumentParser
import Capture
import CaptureCLI
import ToolSupport
import PacketCore

/// `vipdump`: print every frame as the shared core decodes it, one line per frame. It is the window into
/// PacketCore that the four tools build on: what the core sees is what garpwatch, bgpdecode and svcprobe see.
@main
struct VipDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vipdump",
        abstract: "Decode every frame of a capture through vipscope's core and print one line per frame.",
        discussion: """
            Reads pcap or pcapng files (-r, several allowed, '-' for standard input) or a live interface \
            (-i), any link type the core decodes: Ethernet with 802.1Q/QinQ tags, Linux cooked SLL/SLL2 \
            from 'tcpdump -i any', raw IP, BSD loopback.

            Each line: frame number, UTC time, link addresses, VLAN tags, then ARP (with its kind: \
            request, reply, gratuitous-request, gratuitous-reply, probe, announcement), IPv4/IPv6, \
            TCP/UDP/ICMPv6 NDP. A problem in a frame is shown in brackets with its layer and byte offset; \
            the frame is decoded as far as it goes.

            Examples:
              vipdump -r captures/garp-arping.pcap
              vipdump -r captures/bgp-bird-frr.pcap -c 10 tcp port 179
              vipdump -i eth0 --duration 30 -w evidence.pcapng arp or icmp6

            Exit status: 0 decoded every frame (a live capture ended by --duration, -c or Ctrl-C \
            included); 1 could not run, or a file could not be read to its end (the frames before the cut \
            are printed); 2 interrupted (SIGINT, SIGTERM) while reading a file; 64 usage error.
            """,
        version: VipscopeVersion.string)

    /// A usage error is one line plus the `--help` hint (ToolSupport.CommandRunner).
    static func main() { CommandRunner.main(Self.self) }

    @OptionGroup var capture: CaptureOptions

    @Flag(help: "Print only the per-file totals (frames, layers, problems), not each frame.")
    var summaryOnly = false

    func validate() throws {
        try capture.requireSource()
        if capture.interfaces.count > 1 {
            throw ValidationError("vipdump watches one interface (-i) at a time; run one vipdump per interface.")
        }
    }

    func run() throws {
        var totals = Totals()
        // Files too: SIGINT/SIGTERM end a read of a FIFO or a stalled pipe (exit 2), like every other tool.
        StopSignal.install()
        do {
            if let interface = capture.interfaces.first {
                let source = try capture.openInterface(interface)
                let recorder = try capture.makeRecorder(for: [source])
                try dump(source, totals: &totals, recorder: recorder)
                try recorder?.close()
                if let statistics = source.statistics() {
                    printError("vipdump: \(PrintableText.escaped(interface)): \(statistics)")
                }
            } else {
                for path in capture.files {
                    let source = try capture.openFile(path)
                    try dump(source, totals: &totals, recorder: nil)
                    if let count = capture.count, totals.frames >= count { break }
                }
            }
        } catch let error as CaptureError {
            if totals.frames > 0 { print(totals.report) }
            if StopSignal.isRaised && !capture.isLive {
                printError("vipdump: interrupted while reading (\(totals.frames) frames read)")
                throw ExitCode(ExitStatus.interrupted)
            }
            printError("vipdump: \(error.message)")
            throw ExitCode(ExitStatus.failure)
        }
        if summaryOnly || capture.files.count > 1 { print(totals.report) }
        // A live capture ends by Ctrl-C as a matter of course (exit 0); a file read that was cut short did not
        // read its input to the end.
        if StopSignal.isRaised && !capture.isLive {
            printError("vipdump: interrupted after \(totals.frames) frames; the rest of the input was not read")
            throw ExitCode(ExitStatus.interrupted)
        }
    }

    private func dump(_ source: PacketSource, totals: inout Totals, recorder: CaptureRecorder?) throws {
        let count = capture.count
        try source.forEach(until: capture.deadline, shouldStop: { StopSignal.isRaised }) { record in
            recorder?.write(record)
            let packet = Packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
            totals.add(packet)
            if !summaryOnly {
                print("\(totals.frames) \(record.timestamp.iso8601) \(packet.summary)")
            }
            if let count, totals.frames >= count { return .stop }
            return .continue
        }
    }
}

/// What a run saw, for the closing summary line.
struct Totals {
    var frames = 0
    var arp = 0
    var ipv4 = 0
    var ipv6 = 0
    var tcp = 0
    var udp = 0
    var ndp = 0
    var truncated = 0
    var malformed = 0
    var unsupported = 0

    mutating func add(_ packet: Packet) {
        frames += 1
        switch packet.network {
        case .arp: arp += 1
        case .ipv4: ipv4 += 1
        case .ipv6: ipv6 += 1
        default: break
        }
        switch packet.transport {
        case .tcp: tcp += 1
        case .udp: udp += 1
        default: break
        }
        if packet.ndp != nil { ndp += 1 }
        switch packet.issue?.kind {
        case .truncated?: truncated += 1
        case .malformed?: malformed += 1
        case .unsupported?: unsupported += 1
        case nil: break
        }
    }

    var report: String {
        "\(frames) frames: \(arp) ARP, \(ipv4) IPv4, \(ipv6) IPv6, \(tcp) TCP, \(udp) UDP, \(ndp) NDP; "
            + "problems: \(truncated) truncated, \(malformed) malformed, \(unsupported) unsupported"
    }
}

func printError(_ message: String) { StandardStreams.error(message) }
