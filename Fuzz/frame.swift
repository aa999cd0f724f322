// libFuzzer harness: one frame of any link type through every layer of PacketCore.
// The first byte picks the link type; the rest is the frame. Built by scripts/fuzz with the core's sources.

let linkTypes: [LinkType] = [.ethernet, .linuxSLL, .linuxSLL2, .raw, .rawAlt12, .rawAlt14, .ipv4, .ipv6, .null, .loop]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrame(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let linkType = linkTypes[Int(data[0]) % linkTypes.count]
    let frame = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    // Also claim a longer wire length half the time, so the snaplen-truncation paths run.
    let originalLength = data[0] & 0x80 != 0 ? frame.count + 100 : frame.count
    let packet = Packet.decode(frame, linkType: linkType, originalLength: originalLength)
    precondition(packet.payload.lowerBound >= 0 && packet.payload.upperBound <= frame.count, "payload out of frame")
    if let issue = packet.issue { precondition(issue.offset >= 0 && issue.offset <= frame.count, "issue offset") }
    _ = packet.summary
    return 0
}
