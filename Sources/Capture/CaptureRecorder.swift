import Glibc
import PacketCore

/// Keeps the evidence while a tool analyses it: `-w FILE` on every live tool, like tcpdump's.
///
/// A name ending in `.pcapng` is written as pcapng (one interface description block per interface, with its
/// name and nanosecond resolution, so several interfaces of different link types share one file); any other
/// name as a nanosecond pcap through libpcap's own `pcap_dump`, which takes one link type only. libpcap 1.10
/// writes no pcapng, hence the small block writer here (pcapng, draft-ietf-opsawg-pcapng, sections 4.1,
/// 4.2 and 4.3).
public final class CaptureRecorder {
    public let path: String
    private let storage: Storage

    private enum Storage {
        case pcap(PacketWriter)
        case pcapng(PcapngFile)
    }

    /// Whether `path` names a pcapng file (by its extension).
    public static func isPcapng(_ path: String) -> Bool { path.lowercased().hasSuffix(".pcapng") }

    /// Create (or replace) `path` for frames from `interfaces`, in the order `write(_:interface:)` numbers them.
    public init(path: String, interfaces: [(name: String, linkType: LinkType)], snapshotLength: Int = 262_144)
        throws(CaptureError)
    {
        self.path = path
        if Self.isPcapng(path) {
            storage = .pcapng(try PcapngFile(path: path, interfaces: interfaces, snapshotLength: snapshotLength))
            return
        }
        let linkTypes = Set(interfaces.map(\.linkType.rawValue))
        guard linkTypes.count <= 1, let first = interfaces.first else {
            throw CaptureError(
                .other, "cannot write \(path): a pcap file holds one link type and these interfaces have "
                    + "\(linkTypes.count); name the file .pcapng to keep them all")
        }
        storage = .pcap(try PacketWriter(path: path, linkType: first.linkType, snapshotLength: snapshotLength))
    }

    /// Append one frame as it was captured on interface number `interface` (its index in `interfaces`).
    public func write(_ record: borrowing PacketRecord, interface: Int = 0) {
        write(timestamp: record.timestamp, bytes: record.bytes, originalLength: record.originalLength,
              interface: interface)
    }

    /// Append one frame: its time, its captured bytes and its length on the wire.
    public func write(timestamp: Timestamp, bytes: UnsafeRawBufferPointer, originalLength: Int, interface: Int = 0) {
        switch storage {
        case .pcap(let writer): writer.write(timestamp: timestamp, bytes: bytes, originalLength: originalLength)
        case .pcapng(let file):
            file.write(timestamp: timestamp, bytes: bytes, originalLength: originalLength, interface: interface)
        }
    }

    /// Push buffered frames to the file (a live capture flushes so that a killed tool leaves its evidence).
    public func flush() throws(CaptureError) {
        switch storage {
        case .pcap(let writer): try writer.flush()
        case .pcapng(let file): try file.flush()
        }
    }

    /// Flush and close; later writes are ignored.
    public func close() throws(CaptureError) {
        switch storage {
        case .pcap(let writer): try writer.close()
        case .pcapng(let file): try file.close()
        }
    }
}

/// A pcapng file being written: a section header, one interface description per interface, then one enhanced
/// packet block per frame. Little-endian (the byte-order magic tells readers), nanosecond timestamps.
final class PcapngFile {
    let path: String
    private var file: UnsafeMutablePointer<FILE>?
    private let snapshotLength: Int
    private var block: [UInt8] = []
    private var failed: Int32 = 0

    init(path: String, interfaces: [(name: String, linkType: LinkType)], snapshotLength: Int) throws(CaptureError) {
        self.path = path
        self.snapshotLength = snapshotLength
        guard let file = fopen(path, "wb") else {
            let code = errno
            if code == ENOENT { throw CaptureError(.noSuchFile, "cannot write \(path): its directory does not exist") }
            if code == EACCES || code == EPERM {
                throw CaptureError(.permissionDenied, "cannot write \(path): permission denied (choose another path)")
            }
            throw CaptureError(.io, "cannot write \(path): \(String(cString: strerror(code)))")
        }
        self.file = file
        // Section header block (4.1): magic, version 1.0, section length unknown (-1), shb_userappl.
        begin(0x0A0D_0D0A)
        append(UInt32(0x1A2B_3C4D))
        append(UInt16(1))
        append(UInt16(0))
        append(UInt64.max)
        option(4, Array("vipscope".utf8))
        option(0, [])
        end()
        for interface in interfaces {
            // Interface description block (4.2): link type, snap length, if_name (2), if_tsresol (9) = 10^-9.
            begin(1)
            append(UInt16(truncatingIfNeeded: interface.linkType.rawValue))
            append(UInt16(0))
            append(UInt32(clamping: snapshotLength))
            option(2, Array(interface.name.utf8))
            option(9, [9])
            option(0, [])
            end()
        }
        try flush()
    }

    deinit { if let file { fclose(file) } }

    func write(timestamp: Timestamp, bytes: UnsafeRawBufferPointer, originalLength: Int, interface: Int) {
        guard file != nil else { return }
        let captured = min(bytes.count, snapshotLength)
        // Enhanced packet block (4.3): interface id, 64-bit timestamp in if_tsresol units, lengths, data.
        let nanoseconds = UInt64(bitPattern: timestamp.totalNanoseconds)
        begin(6)
        append(UInt32(clamping: max(0, interface)))
        append(UInt32(truncatingIfNeeded: nanoseconds >> 32))
        append(UInt32(truncatingIfNeeded: nanoseconds))
        append(UInt32(captured))
        append(UInt32(clamping: max(originalLength, captured)))
        block.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<captured]))
        pad()
        end()
    }

    func flush() throws(CaptureError) {
        guard let file else { return }
        if failed != 0 || fflush(file) != 0 {
            let code = failed != 0 ? failed : errno
            throw CaptureError(.io, "cannot write \(path): \(String(cString: strerror(code))) (check free space)")
        }
    }

    func close() throws(CaptureError) {
        guard let file else { return }
        defer {
            fclose(file)
            self.file = nil
        }
        try flush()
    }

    // MARK: Blocks

    private func begin(_ type: UInt32) {
        block.removeAll(keepingCapacity: true)
        append(type)
        append(UInt32(0))  // total length, set by end()
    }

    private func end() {
        let total = UInt32(block.count + 4)
        withUnsafeBytes(of: total.littleEndian) { bytes in
            for index in 0..<4 { block[4 + index] = bytes[index] }
        }
        append(total)
        guard let file else { return }
        let written = block.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        if written != block.count && failed == 0 { failed = errno == 0 ? EIO : errno }
    }

    private func option(_ code: UInt16, _ value: [UInt8]) {
        append(code)
        append(UInt16(clamping: value.count))
        block.append(contentsOf: value.prefix(Int(UInt16.max)))
        pad()
    }

    private func pad() {
        while block.count % 4 != 0 { block.append(0) }
    }

    private func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { block.append(contentsOf: $0) }
    }
}

/// A capture file must not be written from two threads at once.
@available(*, unavailable)
extension CaptureRecorder: Sendable {}
