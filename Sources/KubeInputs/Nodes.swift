import PacketCore

/// A node and its `InternalIP` addresses (`status.addresses[]` with `type: InternalIP`), IPv4 and IPv6: what
/// the tools match a MAC or a BGP next hop against to name the node that announces an IP.
public struct NodeAddresses: Sendable, Equatable {
    public var name: String
    public var internalIPs: [IPAddress]
    /// `metadata.labels`: what MetalLB's `nodeSelectors` match.
    public var labels: [String: String] = [:]

    public init(name: String, internalIPs: [IPAddress], labels: [String: String] = [:]) {
        self.name = name
        self.internalIPs = internalIPs
        self.labels = labels
    }
}

/// The nodes in `kubectl get nodes -o json` (or `-o json` of one Node).
public struct NodeInventory: Sendable, Equatable {
    /// Sorted by name.
    public var nodes: [NodeAddresses]

    public subscript(name: String) -> [IPAddress]? { nodes.first { $0.name == name }?.internalIPs }

    /// The node holding `address` as an InternalIP, if any.
    public func node(holding address: IPAddress) -> String? { nodes.first { $0.internalIPs.contains(address) }?.name }

    public static func read(file path: String, limits: InputLimits = .standard) throws(KubeInputError) -> Self {
        try parse(InputFile.read(path, limits: limits), file: path, limits: limits)
    }

    public static func parse(
        _ bytes: [UInt8], file: String, limits: InputLimits = .standard
    ) throws(KubeInputError) -> Self {
        let root = try JSONInput.parse(bytes, file: file, limits: limits)
        var nodes: [NodeAddresses] = []
        for (index, item) in try listItems(root, file: file).enumerated() {
            let context = "items[\(index)] (\(Fields.identity(of: item).name ?? "-"))"
            let fields = try Fields(root: item, file: file, context: context)
            guard try fields.string("kind") ?? "Node" == "Node" else {
                throw KubeInputError(
                    file: file, problem: "\(context) is a \(try fields.string("kind") ?? ""), expected a Node.")
            }
            let metadata = try fields.object("metadata")
            guard let name = try metadata?.string("name") else {
                throw fields.error("metadata.name", "is missing.")
            }
            let labels = try metadata?.stringMap("labels") ?? [:]
            var addresses: [IPAddress] = []
            for entry in try fields.object("status")?.objects("addresses") ?? [] {
                guard try entry.string("type") == "InternalIP" else { continue }
                guard let text = try entry.string("address") else { throw entry.error("address", "is missing.") }
                let address = try entry.address("address", text)
                if !addresses.contains(address) { addresses.append(address) }
            }
            nodes.append(NodeAddresses(name: name, internalIPs: addresses, labels: labels))
        }
        nodes.sort { $0.name < $1.name }
        return NodeInventory(nodes: nodes)
    }
}
