import CPcap
import Glibc
import PacketCore

/// Writes frames to a classic pcap file (libpcap's `pcap_dump`), "-" for standard output.
///
/// Owns the dumper and its `pcap_t`; `close()` reports write errors, deinit closes silently.
public final class PacketWriter {
    public let path: String
    public let linkType: LinkType
    public let snapshotLength: Int
    public let nanosecond: Bool

    private let deadHandle: OpaquePointer
    private var dumper: OpaquePointer?

    /// Create (or replace) `path`; `nanosecond` selects the nanosecond pcap magic (0xa1b23c4d).
    public init(path: String, linkType: LinkType, snapshotLength: Int = 262_144, nanosecond: Bool = true)
        throws(CaptureError)
    {
        guard let deadHandle = pcap_open_dead_with_tstamp_precision(
            Int32(bitPattern: linkType.rawValue), Int32(clamping: snapshotLength),
            UInt32(nanosecond ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO))
        else {
            throw CaptureError(.other, "cannot write \(path): libpcap could not set up a \(linkType) capture")
        }
        guard let dumper = pcap_dump_open(deadHandle, path) else {
            let detail = libpcapErrorText(deadHandle)
            pcap_close(deadHandle)
            if detail.contains("No such file or directory") {
                throw CaptureError(.noSuchFile, "cannot write \(path): its directory does not exist")
            }
            if detail.contains("Permission denied") {
                throw CaptureError(.permissionDenied, "cannot write \(path): permission denied (choose another path)")
            }
            throw CaptureError(.io, "cannot write \(path): \(detail)")
        }
        self.path = path
        self.linkType = linkType
        self.snapshotLength = snapshotLength
        self.nanosecond = nanosecond
        self.deadHandle = deadHandle
        self.dumper = dumper
    }

    deinit {
        if let dumper { pcap_dump_close(dumper) }
        pcap_close(deadHandle)
    }

    /// Append one frame; bytes beyond the snapshot length are cut off (and `originalLength` keeps the wire length).
    public func write(timestamp: Timestamp, bytes: UnsafeRawBufferPointer, originalLength: Int? = nil) {
        guard let dumper else { return }
        let capturedLength = min(bytes.count, snapshotLength)
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(timestamp.seconds)
        header.ts.tv_usec = Int(nanosecond ? timestamp.nanoseconds : timestamp.nanoseconds / 1000)
        header.caplen = UInt32(capturedLength)
        header.len = UInt32(clamping: max(originalLength ?? bytes.count, capturedLength))
        pcap_dump(
            UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), &header,
            bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
    }

    /// Append a frame from a `PacketSource`, keeping its timestamp and lengths.
    public func write(_ record: borrowing PacketRecord) {
        write(timestamp: record.timestamp, bytes: record.bytes, originalLength: record.originalLength)
    }

    /// Push buffered frames to the file.
    public func flush() throws(CaptureError) {
        guard let dumper else { return }
        if pcap_dump_flush(dumper) != 0 {
            throw CaptureError(.io, "cannot write \(path): \(String(cString: strerror(errno))) (check free space)")
        }
    }

    /// Flush and close the file; later writes are ignored.
    public func close() throws(CaptureError) {
        guard let dumper else { return }
        defer {
            pcap_dump_close(dumper)
            self.dumper = nil
        }
        try flush()
    }
}

/// A dumper must not be written from two threads at once.
@available(*, unavailable)
extension PacketWriter: Sendable {}
