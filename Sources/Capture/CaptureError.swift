import CPcap
import Glibc

/// Why a capture could not be opened, filtered, read or written: a kind a program can switch on, and one
/// sentence for a person that says what went wrong and what to do about it.
public struct CaptureError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case noSuchFile
        case notACapture
        case truncatedFile
        case noSuchInterface
        case permissionDenied
        case badFilter
        case interfaceDown
        case io
        case other
    }

    public let kind: Kind
    /// One sentence, ready for stderr.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

// MARK: - Mapping libpcap's failures

extension CaptureError {
    /// A failure of `pcap_open_offline*`, classified from libpcap's error text (libpcap reports nothing else).
    static func openingFile(_ path: String, libpcapMessage: String) -> CaptureError {
        let name = displayName(ofFile: path)
        let detail = libpcapMessage
        if detail.contains("No such file or directory") {
            return CaptureError(.noSuchFile, "cannot read \(name): no such file (check the path)")
        }
        if detail.contains("Permission denied") {
            return CaptureError(
                .permissionDenied, "cannot read \(name): permission denied (check the file's owner and mode)")
        }
        if detail.contains("Is a directory") {
            return CaptureError(.io, "cannot read \(name): it is a directory, not a capture file")
        }
        if detail.contains("truncated") && detail.hasSuffix("only got 0") {
            return CaptureError(.notACapture, "cannot read \(name): the file is empty, not a pcap or pcapng capture")
        }
        if detail.contains("truncated") {
            return CaptureError(
                .truncatedFile,
                "cannot read \(name): the capture file is cut short inside its header (\(detail)); "
                    + "copy or record it again")
        }
        if detail.contains("unknown file format") {
            return CaptureError(
                .notACapture, "cannot read \(name): it is not a pcap or pcapng capture (libpcap: unknown file format)")
        }
        if detail.contains("dump file") || detail.contains("pcapng") || detail.contains("savefile") {
            return CaptureError(.notACapture, "cannot read \(name): the capture header is malformed (\(detail))")
        }
        return CaptureError(.other, "cannot read \(name): \(detail)")
    }

    /// A failure of `pcap_dispatch` on a file after `delivered` packets. With a filter set, libpcap hands
    /// over only the packets that match it, so `delivered` counts those, and the message says so (svcprobe
    /// reads `tcp port 3306` only: "truncated after 0 packets" of a file of 92 would be wrong).
    static func readingFile(
        _ path: String, delivered: Int, filtered: Bool = false, libpcapMessage: String
    ) -> CaptureError {
        let name = displayName(ofFile: path)
        if libpcapMessage.contains("truncated") {
            let packets = (delivered == 1 ? "1 packet" : "\(delivered) packets") + (filtered ? " matching the filter" : "")
            return CaptureError(
                .truncatedFile,
                "\(name) is truncated after \(packets) (\(libpcapMessage)); the packets before the cut were read, "
                    + "so copy the file again or stop the capturing program cleanly to keep the rest")
        }
        return CaptureError(
            .notACapture, "cannot read \(name) after \(delivered) packets: the file is corrupt (\(libpcapMessage))")
    }

    /// A negative status of `pcap_activate` (or of a read on a live handle).
    public static func activating(_ interface: String, status: Int32, libpcapMessage: String) -> CaptureError {
        switch status {
        case PCAP_ERROR_NO_SUCH_DEVICE:
            return CaptureError(
                .noSuchInterface, "cannot capture on \(interface): no such interface (list interfaces with `ip link`)")
        case PCAP_ERROR_PERM_DENIED:
            return CaptureError(
                .permissionDenied,
                "capturing on \(interface) needs CAP_NET_RAW: run as root or "
                    + "`sudo setcap cap_net_raw+ep \(executablePath())`")
        case PCAP_ERROR_PROMISC_PERM_DENIED:
            return CaptureError(
                .permissionDenied,
                "promiscuous capture on \(interface) is not permitted: run as root or capture without promiscuous mode")
        case PCAP_ERROR_IFACE_NOT_UP:
            return CaptureError(
                .interfaceDown,
                "cannot capture on \(interface): the interface is down "
                    + "(bring it up with `ip link set \(interface) up`)")
        case PCAP_ERROR_RFMON_NOTSUP, PCAP_ERROR_NOT_RFMON:
            return CaptureError(.other, "cannot capture on \(interface): monitor mode is not supported there")
        default:
            let detail = libpcapMessage.isEmpty ? String(cString: pcap_statustostr(status)) : libpcapMessage
            return CaptureError(.other, "cannot capture on \(interface): \(detail)")
        }
    }

    static func badFilter(_ expression: String, libpcapMessage: String) -> CaptureError {
        CaptureError(
            .badFilter,
            "bad capture filter \"\(expression)\": \(libpcapMessage) (see `man pcap-filter` for the syntax)")
    }

    static func displayName(ofFile path: String) -> String {
        path == "-" ? "standard input" : path
    }

    /// This program's own path, for the `setcap` advice; "BINARY" when /proc is not there to ask.
    static func executablePath() -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let length = buffer.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { readlink("/proc/self/exe", $0.baseAddress!, $0.count - 1) }
        }
        guard length > 0 else { return "BINARY" }
        return String(decoding: buffer[..<length], as: UTF8.self)
    }
}

/// libpcap's error buffer, as a Swift string.
func libpcapErrorText(_ errorBuffer: [CChar]) -> String {
    let bytes = errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

/// The handle's last error (`pcap_geterr`), as a Swift string.
func libpcapErrorText(_ handle: OpaquePointer) -> String {
    String(cString: pcap_geterr(handle))
}
