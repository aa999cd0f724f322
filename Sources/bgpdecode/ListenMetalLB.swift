import BGPDecodeKit
import KubeInputs
import MetalLBInputs
import PacketCore
import ToolSupport

/// `bgpdecode listen --metallb FILE --nodes FILE [--secrets DIR]`: bgpdecode stands in for the router that
/// the BGPPeers describe. The router's side of a BGPPeer (peerAddress, peerPort, peerASN) becomes ours; its
/// speakers' side (myASN) is what every node's InternalIP must say in its OPEN, since MetalLB's speakers
/// connect from the nodes' addresses, which a BGPPeer does not list.
struct MetalLBStandIn {
    /// Our AS: the given --local-as, else the peerASN every BGPPeer names.
    var localAS: UInt32
    /// Each node InternalIP (of the peerAddresses' families), with the BGPPeers' myASN.
    var peers: [IPAddress: UInt32] = [:]
    /// The same addresses with the BGPPeers' TCP-MD5 password, when they have one.
    var md5Passwords: [IPAddress: String] = [:]
    /// peerAddress:peerPort, when every BGPPeer used names the same one and it is an address of this host.
    var bind: (address: IPAddress, port: UInt16)?
    /// What was taken from the files, for one line on standard error.
    var summary = ""

    struct Failure: Error {
        var message: String
        var status: Int32
    }

    /// `localAS`: --local-as if given. It also picks the BGPPeers whose peerASN it is (all of them when none is).
    static func load(
        metallb: String, nodes: String, secrets: String?, localAS given: UInt32?
    ) -> Result<Self, Failure> {
        let file = PrintableText.escaped(metallb)
        let configuration: MetalLBConfiguration
        let inventory: NodeInventory
        do throws(KubeInputError) {
            configuration = try MetalLBConfiguration.read(file: metallb)
            inventory = try NodeInventory.read(file: nodes)
        } catch {
            return .failure(Failure(message: PrintableText.escaped(error.description), status: ExitStatus.failure))
        }
        let all = configuration.bgpPeers
        guard !all.isEmpty else {
            return .failure(Failure(
                message: "\(file) holds no BGPPeer (apiVersion metallb.io/v1beta1 or v1beta2); give it the output of "
                    + "kubectl get bgppeers -A -o yaml.", status: ExitStatus.failure))
        }
        func listed(_ peers: [BGPPeer], _ value: (BGPPeer) -> String) -> String {
            peers.prefix(6).map { "\(PrintableText.escaped($0.object.description)) \(value($0))" }
                .joined(separator: ", ") + (peers.count > 6 ? ", ..." : "")
        }

        // Our AS, and the BGPPeers we stand in for.
        var used = all
        let localAS: UInt32
        if let given {
            let matching = all.filter { $0.peerASN == given }
            if !matching.isEmpty { used = matching }
            localAS = given
        } else {
            guard Set(all.map(\.peerASN)).count == 1, let only = all.first?.peerASN else {
                return .failure(Failure(
                    message: "\(file): the BGPPeers name different routers' AS (peerASN: "
                        + listed(all) { "\($0.peerASN)" } + "); say which one bgpdecode stands in for with --local-as.",
                    status: ExitStatus.usage))
            }
            localAS = only
        }
        guard Set(used.map(\.myASN)).count == 1, let speakersAS = used.first?.myASN else {
            return .failure(Failure(
                message: "\(file): the BGPPeers for AS \(localAS) give the speakers different AS numbers (myASN: "
                    + listed(used) { "\($0.myASN)" } + "), but a node connects from one address; keep one BGPPeer "
                    + "in the file or give --peer IP --peer-as ASN for each node instead.",
                status: ExitStatus.usage))
        }

        // The password: the same for every BGPPeer used, since each node address has one key.
        var passwords: [String?] = []
        for peer in used {
            switch peer.authentication {
            case .none:
                passwords.append(nil)
            case .password(let inline):
                // MetalLB accepts it; the router it stands in for must then use it too.
                passwords.append(inline)
            case .secret(let name):
                guard let secrets else {
                    return .failure(Failure(
                        message: "\(file): BGPPeer \(PrintableText.escaped(peer.object.description)) takes its "
                            + "password from Secret \(PrintableText.escaped(name)); give --secrets DIR, where "
                            + "DIR/\(PrintableText.escaped(name))/password holds it (the Secret as Kubernetes mounts it).",
                        status: ExitStatus.usage))
                }
                guard !name.contains("/"), name != ".", name != ".." else {
                    return .failure(Failure(
                        message: "\(file): BGPPeer \(PrintableText.escaped(peer.object.description)) names the Secret "
                            + "'\(PrintableText.escaped(name.prefix(64)))', which is not a Kubernetes name; fix "
                            + "passwordSecret.name.", status: ExitStatus.failure))
                }
                switch Listen.readSecret(secrets + "/" + name + "/password") {
                case .success(let secret): passwords.append(secret)
                case .failure(let error):
                    return .failure(Failure(
                        message: "BGPPeer \(PrintableText.escaped(peer.object.description)) in \(file): \(error.message).",
                        status: ExitStatus.failure))
                }
            }
        }
        guard Set(passwords).count == 1, let password = passwords.first else {
            return .failure(Failure(
                message: "\(file): the BGPPeers for AS \(localAS) do not share one password ("
                    + listed(used) { $0.authentication.description } + "), but a node connects from one address; "
                    + "keep one BGPPeer in the file or give --peer and --md5-password for each node instead.",
                status: ExitStatus.usage))
        }

        // Every node's InternalIP of a family the peerAddresses use: MetalLB's nodeSelectors are not applied
        // (Node labels are not read), and a node that does not peer simply never connects.
        let wantV4 = used.contains { if case .v4 = $0.peerAddress { true } else { false } }
        let wantV6 = used.contains { if case .v6 = $0.peerAddress { true } else { false } }
        var standIn = MetalLBStandIn(localAS: localAS)
        for node in inventory.nodes {
            for address in node.internalIPs {
                if case .v4 = address, !wantV4 { continue }
                if case .v6 = address, !wantV6 { continue }
                standIn.peers[address] = speakersAS
                if let password { standIn.md5Passwords[address] = password }
            }
        }
        guard !standIn.peers.isEmpty else {
            return .failure(Failure(
                message: "\(PrintableText.escaped(nodes)): no Node has an InternalIP of the BGPPeers' address family "
                    + "(\(inventory.nodes.count) Nodes); give it the output of kubectl get nodes -o json.",
                status: ExitStatus.failure))
        }
        let routers = Set(used.map { "\($0.peerAddress) \($0.peerPort)" })
        if routers.count == 1, let first = used.first, BGPListener.isLocal(first.peerAddress) {
            standIn.bind = (first.peerAddress, first.peerPort)
        }
        standIn.summary = "standing in for BGPPeer " + used.prefix(4).map { PrintableText.escaped($0.object.description) }
            .joined(separator: ", ") + (used.count > 4 ? ", ..." : "") + " (\(file)): AS \(localAS), "
            + "\(standIn.peers.count) node address\(standIn.peers.count == 1 ? "" : "es") from \(PrintableText.escaped(nodes)) with AS \(speakersAS)"
            + (password == nil ? "" : ", TCP-MD5")
        return .success(standIn)
    }
}
