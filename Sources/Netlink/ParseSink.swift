import CNetlink

/// Where libnl's parse callback (a C function pointer: no captures) leaves the objects it built. Used by one
/// thread only, through the `Monitor` or `RouteSocket` that owns it.
final class ParseSink {
    var kind: ObjectKind = .link
    var isRemoval = false
    var objects: [(NetlinkObject, Bool)] = []

    /// For `nl_msg_parse`: libnl hands each parsed object here with the sink as context.
    static let objectCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { object, context in
        guard let object, let context else { return }
        Unmanaged<ParseSink>.fromOpaque(context).takeUnretainedValue().accept(object)
    }

    func accept(_ object: OpaquePointer) {
        let converted: NetlinkObject?
        switch kind {
        case .link: converted = .link(Link(libnl: object))
        case .address: converted = Address(libnl: object).map(NetlinkObject.address)
        case .neighbour: converted = Neighbour(libnl: object).map(NetlinkObject.neighbour)
        case .route: converted = Route(libnl: object).map(NetlinkObject.route)
        }
        if let converted { objects.append((converted, isRemoval)) }
    }
}
