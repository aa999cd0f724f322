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

    /// Each container's exit status after one second with its own arguments, on lo of an empty namespace: nothing
    /// announces or answers the ConfigMap's IPs there (and nothing leaves it: the namespace has no route).
    static let containerStatuses: [String: Set<Int32>] = [
        "garpwatch": [12],  // each Service IP not seen
        "bgpdecode": [13],  // no BGP session on lo
        "svcprobe": [0],  // probes fail (no route), no --expect-up
        "addrinspect": [0, 130, 143],
    ]

    @Test("Every container runs with its arguments and the ConfigMap's files (one second, in an empty namespace)",
          arguments: ["garpwatch", "bgpdecode", "svcprobe", "addrinspect"])
    func containerArgumentsAreReal(tool: String) throws {
        guard getuid() == 0 else {
            if TestEnvironment.isCI { Issue.record("a network namespace and capture on lo need root") }
            return
        }
        let binary = try #require(TestEnvironment.builtTool(tool), "\(tool) is not built")
        let daemonSet = try #require(try Deploy.objects(kind: "DaemonSet").first)
        let containers = daemonSet.object("spec").object("template").object("spec").objects("containers")
        let container = try #require(containers.first { $0["name"] as? String == tool })
        let data = try #require(try Deploy.objects(kind: "ConfigMap").first).object("data")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vipscope-deploy-\(getpid())-\(tool)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let namespace = "dp\(getpid())\(tool.prefix(3))"
        _ = try? ChildProcess.run(["ip", "netns", "del", namespace])
        try ChildProcess.mustRun(["ip", "netns", "add", namespace])
        defer {
            _ = try? ChildProcess.run(["ip", "netns", "del", namespace])
            try? FileManager.default.removeItem(at: folder)
        }
        try ChildProcess.mustRun(["ip", "-n", namespace, "link", "set", "lo", "up"])
        for (name, value) in data {
            try (value as? String ?? "").write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let arguments = container.strings("args").map { argument -> String in
            switch argument {
            case "$(VIPSCOPE_INTERFACE)": return "lo"
            case "$(NODE_NAME)": return "ci-node"
            default:
                if argument.hasPrefix(":97") { return "127.0.0.1" + argument }
                return argument.hasPrefix("/etc/vipscope/")
                    ? folder.appendingPathComponent(String(argument.dropFirst(14))).path : argument
            }
        }
        #expect(arguments.contains("--metrics-listen"), "\(tool): \(arguments)")
        let duration = tool == "svcprobe" ? "1s" : "1"
        let output = try ChildProcess.run(["ip", "netns", "exec", namespace, binary] + arguments + ["--duration", duration])
        #expect(Self.containerStatuses[tool]?.contains(output.status) == true,
            "\(tool) \(arguments): exit \(output.status): \(output.standardError)")
        #expect(!output.standardError.contains("Error:") && !output.standardError.contains("Usage:"),
            "\(tool): \(output.standardError)")
    }

    @Test("prefixes.txt is the ConfigMap's LoadBalancer IPs as host routes")
    func prefixesMatchServices() throws {
        let data = try #require(try Deploy.objects(kind: "ConfigMap").first).object("data")
        let services = try ServiceInventory.parse(
            Array((data["services.json"] as? String ?? "").utf8), file: "configmap services.json")
        var expected: [String] = []
        for service in services.services {
            for ip in service.assigned where !expected.contains("\(ip)") { expected.append("\(ip)") }
        }
        let lines = (data["prefixes.txt"] as? String ?? "").split(separator: "\n").filter { !$0.hasPrefix("#") }
        let prefixes = expected.map { $0.contains(":") ? "\($0)/128" : "\($0)/32" }
        #expect(Set(lines.map(String.init)) == Set(prefixes), "\(lines) vs \(prefixes)")
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
