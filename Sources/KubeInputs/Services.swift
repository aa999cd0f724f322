import PacketCore

/// What a LoadBalancer Service says about its external IPs: the ones assigned (`status.loadBalancer.ingress`)
/// and the ones asked for but maybe not assigned yet (`spec.loadBalancerIP`, MetalLB's `loadBalancerIPs`
/// annotation), with what a check needs beside them: ports, traffic policy and MetalLB's annotations.
public struct ServiceExpectation: Sendable, Equatable {
    public var namespace: String
    public var name: String
    /// `namespace/name`, the label the tools and metrics use.
    public var qualifiedName: String { "\(namespace)/\(name)" }

    /// IPs in `status.loadBalancer.ingress[].ip`, in the order Kubernetes lists them.
    public var assigned: [IPAddress]
    /// IPs asked for in `spec.loadBalancerIP` (deprecated since 1.24, still honoured by MetalLB) and in the
    /// `metallb.universe.tf/loadBalancerIPs` or `metallb.io/loadBalancerIPs` annotation, without repeats.
    public var declared: [IPAddress]
    /// Declared IPs not assigned: MetalLB has not (or could not) give them yet.
    public var declaredButUnassigned: [IPAddress] { declared.filter { !assigned.contains($0) } }
    /// Every IP the tools should look for: assigned first, then declared-only ones.
    public var expectedIPs: [IPAddress] { assigned + declaredButUnassigned }

    public var ports: [ServicePort]
    /// `Cluster` (the default) or `Local`: with `Local` only nodes with a ready endpoint may announce.
    public var externalTrafficPolicy: String
    /// `spec.ipFamilies` (`IPv4`, `IPv6`), as the API server filled it in.
    public var ipFamilies: [String]
    /// Every annotation under `metallb.universe.tf/` or `metallb.io/`, kept verbatim (address-pool,
    /// allow-shared-ip, ip-allocated-from-pool, loadBalancerIPs, ...).
    public var metallbAnnotations: [String: String]
    /// `status.loadBalancer.ingress[].hostname` entries, which have no IP to check (kept to say so).
    public var ingressHostnames: [String]

    /// The MetalLB pool asked for (`metallb.universe.tf/address-pool`, or its `metallb.io/` form).
    public var requestedPool: String? {
        metallbAnnotations["metallb.universe.tf/address-pool"] ?? metallbAnnotations["metallb.io/address-pool"]
    }
    /// The pool MetalLB says it allocated from (0.13+ sets this annotation).
    public var allocatedPool: String? {
        metallbAnnotations["metallb.universe.tf/ip-allocated-from-pool"]
            ?? metallbAnnotations["metallb.io/ip-allocated-from-pool"]
    }
}

public struct ServicePort: Sendable, Equatable {
    public var name: String?
    /// `TCP` (the default), `UDP` or `SCTP`.
    public var transport: String
    public var port: UInt16
    public var nodePort: UInt16?

    public init(name: String?, transport: String, port: UInt16, nodePort: UInt16?) {
        self.name = name
        self.transport = transport
        self.port = port
        self.nodePort = nodePort
    }
}

/// The LoadBalancer Services in `kubectl get svc -A -o json` (or `-o json` of one Service).
public struct ServiceInventory: Sendable, Equatable {
    /// LoadBalancer Services, sorted by `namespace/name`.
    public var services: [ServiceExpectation]
    /// Services of other types (ClusterIP, headless, NodePort, ExternalName): not announced, so ignored.
    public var ignoredServices: Int

    public static func read(file path: String, limits: InputLimits = .standard) throws(KubeInputError) -> Self {
        try parse(InputFile.read(path, limits: limits), file: path, limits: limits)
    }

    public static func parse(
        _ bytes: [UInt8], file: String, limits: InputLimits = .standard
    ) throws(KubeInputError) -> Self {
        let root = try JSONInput.parse(bytes, file: file, limits: limits)
        var services: [ServiceExpectation] = []
        var ignored = 0
        for (index, item) in try listItems(root, file: file).enumerated() {
            let identity = Fields.identity(of: item)
            let context = "items[\(index)] (\(identity.namespace ?? "-")/\(identity.name ?? "-"))"
            let fields = try Fields(root: item, file: file, context: context)
            if let kind = try fields.string("kind"), kind != "Service" {
                ignored += 1
                continue
            }
            guard let service = try ServiceExpectation(fields) else {
                ignored += 1
                continue
            }
            services.append(service)
        }
        services.sort { $0.qualifiedName < $1.qualifiedName }
        return ServiceInventory(services: services, ignoredServices: ignored)
    }
}

extension ServiceExpectation {
    static let annotationPrefixes = ["metallb.universe.tf/", "metallb.io/"]

    /// nil for a Service that is not of type LoadBalancer.
    init?(_ item: Fields) throws(KubeInputError) {
        guard let metadata = try item.object("metadata"), let name = try metadata.string("name") else {
            throw item.error("metadata.name", "is missing.")
        }
        let spec = try item.object("spec")
        guard try spec?.string("type") == "LoadBalancer", let spec else { return nil }
        self.name = name
        namespace = try metadata.string("namespace") ?? "default"
        metallbAnnotations = try metadata.stringMap("annotations").filter { key, _ in
            Self.annotationPrefixes.contains { key.hasPrefix($0) }
        }

        assigned = []
        ingressHostnames = []
        for ingress in try item.object("status")?.object("loadBalancer")?.objects("ingress") ?? [] {
            if let text = try ingress.string("ip") {
                let address = try ingress.address("ip", text)
                if !assigned.contains(address) { assigned.append(address) }
            } else if let hostname = try ingress.string("hostname") {
                ingressHostnames.append(hostname)
            }
        }

        declared = []
        if let text = try spec.string("loadBalancerIP"), !text.isEmpty {
            declared.append(try spec.address("loadBalancerIP", text))
        }
        for key in Self.annotationPrefixes.map({ $0 + "loadBalancerIPs" }) {
            guard let list = metallbAnnotations[key] else { continue }
            // MetalLB splits the annotation on commas and trims spaces.
            for part in list.split(separator: ",") {
                let text = part.trimmingCharacters(in: " \t")
                guard !text.isEmpty else { continue }
                guard let address = IPAddress(text) else {
                    throw metadata.error(
                        "annotations[\(key)]", "holds '\(text.prefix(64))', which is not an IPv4 or IPv6 address.")
                }
                if !declared.contains(address) { declared.append(address) }
            }
        }

        ports = []
        for port in try spec.objects("ports") {
            guard let number = try port.integer("port", in: 1...65535) else { throw port.error("port", "is missing.") }
            ports.append(ServicePort(
                name: try port.string("name"), transport: try port.string("protocol") ?? "TCP",
                port: UInt16(number), nodePort: try port.integer("nodePort", in: 1...65535).map(UInt16.init)))
        }
        externalTrafficPolicy = try spec.string("externalTrafficPolicy") ?? "Cluster"
        ipFamilies = try spec.strings("ipFamilies")
    }
}

extension Fields {
    /// Parses `text`, found at `key`, as an IPv4 or IPv6 address.
    package func address(_ key: String, _ text: String) throws(KubeInputError) -> IPAddress {
        guard let address = IPAddress(text) else {
            throw error(key, "is '\(text.prefix(64))', which is not an IPv4 or IPv6 address.")
        }
        return address
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let text = Substring(self)
        guard let start = text.firstIndex(where: { !set.contains($0) }),
            let end = text.lastIndex(where: { !set.contains($0) })
        else { return "" }
        return String(text[start...end])
    }
}
