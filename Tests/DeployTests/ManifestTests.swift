import Foundation
import KubeInputs
import MetalLBInputs
import PacketCore
import TestSupport
import Testing
import Yams

@Suite("deploy/ manifests")
struct ManifestTests {
    @Test("The kinds, all in the vipscope namespace, and kustomization lists every manifest")
    func kinds() throws {
        let manifests = try Deploy.manifests()
        let kinds = manifests.compactMap { $0.object["kind"] as? String }
        #expect(Set(kinds) == ["Namespace", "ServiceAccount", "ConfigMap", "DaemonSet", "Service", "ServiceMonitor",
                               "PrometheusRule"])
        for (file, object) in manifests where object["kind"] as? String != "Namespace" {
            #expect(object.object("metadata")["namespace"] as? String == "vipscope", "\(file)")
        }
        let kustomization = try Yams.load(yaml: Deploy.text("kustomization.yaml")) as? [String: Any] ?? [:]
        let listed = Set(kustomization.strings("resources"))
        #expect(listed == Set(manifests.map(\.file)))
    }

    @Test("DaemonSet: host network, cluster DNS, NODE_NAME from the downward API, and least privilege")
    func daemonSet() throws {
        let daemonSet = try #require(try Deploy.objects(kind: "DaemonSet").first)
        let pod = daemonSet.object("spec").object("template").object("spec")
        #expect(pod["hostNetwork"] as? Bool == true)
        #expect(pod["dnsPolicy"] as? String == "ClusterFirstWithHostNet")
        #expect(pod["automountServiceAccountToken"] as? Bool == false)
        let installed = try Deploy.installCapabilities()
        #expect(installed.count == 5, "scripts/install's capability table was not found")
        let containers = pod.objects("containers")
        #expect(containers.compactMap { $0["name"] as? String }.sorted()
            == ["addrinspect", "bgpdecode", "garpwatch", "svcprobe"])
        for container in containers {
            let name = container["name"] as? String ?? "?"
            let security = container.object("securityContext")
            let capabilities = security.object("capabilities")
            #expect(capabilities.strings("drop") == ["ALL"], "\(name)")
            let added = Set(capabilities.strings("add"))
            #expect(added.isSubset(of: ["NET_RAW", "NET_BIND_SERVICE"]), "\(name)")
            #expect(added == installed[name], "\(name): manifest \(added), scripts/install \(installed[name] ?? [])")
            #expect(security["readOnlyRootFilesystem"] as? Bool == true, "\(name)")
            #expect(security["allowPrivilegeEscalation"] as? Bool == false, "\(name)")
            // Non-root wherever no capability is needed (Kubernetes has no ambient capabilities).
            #expect(security["runAsNonRoot"] as? Bool == added.isEmpty, "\(name)")
            if added.isEmpty { #expect((security["runAsUser"] as? Int ?? 0) != 0, "\(name)") }
            let nodeName = container.objects("env").first { $0["name"] as? String == "NODE_NAME" }
            let fieldPath = nodeName?.object("valueFrom").object("fieldRef")["fieldPath"] as? String
            #expect(fieldPath == "spec.nodeName", "\(name)")
            let command = container.strings("command").first ?? ""
            #expect(command == "/usr/local/bin/\(name)", "\(name)")
            #expect(container.objects("volumeMounts").contains { $0["mountPath"] as? String == "/tmp" }, "\(name)")
        }
    }

    @Test("Service, ServiceMonitor and METRICS.md agree on the metrics ports")
    func metricsPorts() throws {
        let daemonSet = try #require(try Deploy.objects(kind: "DaemonSet").first)
        let containers = daemonSet.object("spec").object("template").object("spec").objects("containers")
        var containerPorts: [String: Int] = [:]
        for container in containers {
            for port in container.objects("ports") {
                containerPorts[port["name"] as? String ?? ""] = port["containerPort"] as? Int
            }
        }
        let service = try #require(try Deploy.objects(kind: "Service").first)
        let annotations = service.object("metadata").object("annotations")
        #expect(annotations["prometheus.io/scrape"] as? String == "true")
        #expect(annotations["prometheus.io/path"] as? String == "/metrics")
        #expect(service.object("spec")["clusterIP"] as? String == "None")
        var servicePorts: [String: Int] = [:]
        for port in service.object("spec").objects("ports") {
            servicePorts[port["name"] as? String ?? ""] = port["port"] as? Int
            #expect(containerPorts[port["targetPort"] as? String ?? ""] == port["port"] as? Int)
        }
        #expect(servicePorts == containerPorts)
        let monitor = try #require(try Deploy.objects(kind: "ServiceMonitor").first)
        #expect(Set(monitor.object("spec").objects("endpoints").compactMap { $0["port"] as? String })
            == Set(servicePorts.keys))
        // METRICS.md's port table ("| garpwatch | 9781 |").
        let documented = try Deploy.text("METRICS.md").split(separator: "\n").compactMap { line -> Int? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return cells.count >= 2 && ["garpwatch", "bgpdecode", "svcprobe", "addrinspect"].contains(cells[0])
                ? Int(cells[1]) : nil
        }
        #expect(Set(documented) == Set(containerPorts.values))
    }

    @Test("garpwatch runs with its container's arguments and the ConfigMap's files (live on lo, one second)")
    func garpwatchTakesItsArguments() throws {
        guard getuid() == 0 else {
            if TestEnvironment.isCI { Issue.record("capturing on lo needs root") }
            return
        }
        let garpwatch = try #require(TestEnvironment.builtTool("garpwatch"), "garpwatch is not built")
        let daemonSet = try #require(try Deploy.objects(kind: "DaemonSet").first)
        let containers = daemonSet.object("spec").object("template").object("spec").objects("containers")
        let container = try #require(containers.first { $0["name"] as? String == "garpwatch" })
        let data = try #require(try Deploy.objects(kind: "ConfigMap").first).object("data")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vipscope-deploy-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, value) in data { try (value as? String ?? "").write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let port = 20000 + Int(getpid()) % 30000
        let arguments = container.strings("args").map { argument -> String in
            switch argument {
            case "$(VIPSCOPE_INTERFACE)": return "lo"
            case "$(NODE_NAME)": return "ci-node"
            case ":9781": return "127.0.0.1:\(port)"
            default:
                return argument.hasPrefix("/etc/vipscope/")
                    ? folder.appendingPathComponent(String(argument.dropFirst(14))).path : argument
            }
        }
        #expect(arguments.contains("--metrics-listen") && arguments.contains("--services"), "\(arguments)")
        let output = try ChildProcess.run([garpwatch] + arguments + ["--duration", "1"])
        // Nothing announces the ConfigMap's IPs on lo: each is a not-seen verdict (12), never a usage error.
        #expect(output.status == 12, "\(arguments): \(output.standardError)")
        #expect(output.standardOutput.contains("(one owner, service "), "\(output.standardOutput)")
    }

    @Test("The ConfigMap's expectations read with KubeInputs, and every expected IP is in a MetalLB pool")
    func configMap() throws {
        let configMap = try #require(try Deploy.objects(kind: "ConfigMap").first)
        let data = configMap.object("data")
        let services = try ServiceInventory.parse(
            Array((data["services.json"] as? String ?? "").utf8), file: "configmap services.json")
        let nodes = try NodeInventory.parse(Array((data["nodes.json"] as? String ?? "").utf8), file: "nodes.json")
        let metallb = try MetalLBConfiguration.parse(
            Array((data["metallb.yaml"] as? String ?? "").utf8), file: "metallb.yaml")
        #expect(!services.services.isEmpty && !nodes.nodes.isEmpty && !metallb.pools.isEmpty)
        for service in services.services {
            for address in service.expectedIPs {
                #expect(metallb.pool(holding: address) != nil, "\(service.qualifiedName) \(address)")
            }
        }
        for peer in metallb.bgpPeers {
            guard case .password = peer.authentication else { continue }
            Issue.record("the ConfigMap holds BGPPeer \(peer.object)'s password in clear")
        }
    }
}
