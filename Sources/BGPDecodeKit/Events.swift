import PacketCore

/// Where and when an event happened: the session direction, the packet (or MRT record) time, and the byte
/// offset of the message in its stream (TCP stream offset, or MRT file offset).
public struct BGPEventOrigin: Sendable {
    public var timestamp: Timestamp
    public var session: BGPSessionKey
    public var offset: Int

    public init(timestamp: Timestamp, session: BGPSessionKey, offset: Int) {
        self.timestamp = timestamp
        self.session = session
        self.offset = offset
    }
}

/// Why a route left a table.
public enum BGPWithdrawReason: String, Sendable {
    /// In the UPDATE's withdrawn routes or MP_UNREACH_NLRI.
    case withdrawn
    /// RFC 7606 treat-as-withdraw (or session-reset) of a malformed UPDATE.
    case malformed = "treat-as-withdraw"
    /// Implicitly, when the session ended without graceful restart.
    case sessionDown = "session-down"
    /// A stale route (graceful restart) not refreshed before End-of-RIB, or dropped at a reconnect whose
    /// OPEN no longer has graceful restart.
    case staleFlushed = "stale-flushed"
}

/// Everything bgpdecode reports, in order. Route events carry the interned path for rendering.
public enum BGPEvent: Sendable {
    case open(BGPEventOrigin, BGPOpen)
    case keepalive(BGPEventOrigin)
    case notification(BGPEventOrigin, BGPNotification)
    case routeRefresh(BGPEventOrigin, BGPRouteRefresh)
    case endOfRIB(BGPEventOrigin, BGPAddressFamily, staleFlushed: Int)
    case announce(BGPEventOrigin, BGPRouteKey, BGPPath, replaced: Bool)
    /// `rejected`: for treat-as-withdraw, the attributes that were refused.
    case withdraw(BGPEventOrigin, BGPRouteKey, BGPWithdrawReason, wasPresent: Bool, rejected: BGPPath?)
    case attributeProblem(BGPEventOrigin, BGPAttributeProblem)
    /// The session ended: `withdrawn` routes removed, `stale` kept under graceful restart.
    case sessionDown(BGPEventOrigin, reason: String, withdrawn: Int, stale: Int)
    /// A message (or the stream) could not be decoded; decoding goes on with the next one.
    case decodeError(BGPEventOrigin, ParseError)
    /// The context of a direction is guessed or overridden, said once per connection direction.
    case contextNote(BGPEventOrigin, String)
    /// MRT BGP4MP state change.
    case stateChange(BGPEventOrigin, old: UInt16, new: UInt16)
    /// An unknown message type, or one bgpdecode does not interpret.
    case other(BGPEventOrigin, BGPMessageType)
    /// Stream bytes `lost` (offsets in the sender's TCP stream) were never captured, or were given up by
    /// reassembly at its limits: messages in them are missing, so the tables may be incomplete.
    case gap(BGPEventOrigin, lost: Range<UInt64>)
    /// The stream ended (FIN, RST or the end of the capture) inside a message: `received` of its
    /// `length` bytes (nil when even its header is incomplete) were captured.
    case truncatedMessage(BGPEventOrigin, received: Int, length: Int?)

    public var origin: BGPEventOrigin {
        switch self {
        case .open(let origin, _), .keepalive(let origin), .notification(let origin, _),
            .routeRefresh(let origin, _), .endOfRIB(let origin, _, _), .announce(let origin, _, _, _),
            .withdraw(let origin, _, _, _, _), .attributeProblem(let origin, _), .sessionDown(let origin, _, _, _),
            .decodeError(let origin, _), .contextNote(let origin, _), .stateChange(let origin, _, _),
            .other(let origin, _), .gap(let origin, _), .truncatedMessage(let origin, _, _):
            origin
        }
    }
}
