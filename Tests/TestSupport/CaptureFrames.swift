import Capture
import PacketCore

/// One frame of a capture file, decoded by the core, with its capture record's facts.
public struct DecodedFrame {
    public var number: Int
    public var timestamp: Timestamp
    public var linkType: LinkType
    public var capturedLength: Int
    public var originalLength: Int
    public var packet: Packet
    public var bytes: [UInt8]
}

/// Every frame of the capture file at `path`, read through Capture and decoded with the core. A file cut
/// short throws libpcap's truncation error, unless `framesBeforeACut`: then it gives the frames before the
/// cut (tcpdump's corpus has files cut on purpose).
public func decodeCaptureFile(_ path: String, framesBeforeACut: Bool = false) throws -> [DecodedFrame] {
    let source = try PacketSource.openFile(path)
    var frames: [DecodedFrame] = []
    do {
        try source.forEach { record in
            let packet = Packet.decode(record.bytes, linkType: record.linkType, originalLength: record.originalLength)
            frames.append(
                DecodedFrame(
                    number: frames.count + 1, timestamp: record.timestamp, linkType: record.linkType,
                    capturedLength: record.capturedLength, originalLength: record.originalLength, packet: packet,
                    bytes: Array(record.bytes)))
            return .continue
        }
    } catch let error as CaptureError where framesBeforeACut && error.kind == .truncatedFile {
        return frames
    }
    return frames
}
