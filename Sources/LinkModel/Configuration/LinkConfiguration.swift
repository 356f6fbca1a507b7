import Foundation

/// The one typed configuration of a QLink link: who takes part, where they listen,
/// which certificates they hold and what their detectors are.
///
/// Read it with ``LinkConfiguration/load(from:)``; `configs/loopback.yaml` is a commented example.
public struct LinkConfiguration: Decodable, Sendable, Equatable {
    /// A short name for the link, used in logs, metrics and file names.
    public var name: String
    /// Certificate authority, CRL and certificate store shared by every participant.
    public var security: SecurityConfiguration
    /// The coordinator that receives tag streams and broadcasts heralds.
    public var coordinator: CoordinatorConfiguration
    /// The labs, each with one node service.
    public var labs: [LabConfiguration]
    /// The physical description of the link (arms, stages, protocol, clock, costs), if given.
    /// The planner, the simulator and the coordinator read it.
    public var model: LinkDescription?
    /// How the simulator rehearses the link (seed, duration, channels, clocks, bases, faults), if given.
    public var simulation: SimulationSettings?
    /// How the labs' tag streams are correlated (clock reference, window, bases, CHSH, heralds), if given.
    public var correlation: CorrelationConfiguration?
    /// How the link is watched (alert rules, status server, live re-tuning), if given.
    public var monitoring: MonitoringConfiguration?
    /// The file the configuration was read from (`<string>` for parsed text), named by resolution errors.
    public var file = "<string>"

    enum CodingKeys: String, CodingKey {
        case name, security, coordinator, labs, model, simulation, correlation, monitoring
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw container.invalid(.name, "'\(name)' is not a valid link name; use letters, digits, '-' and '_'")
        }
        security = try container.decode(SecurityConfiguration.self, forKey: .security)
        coordinator = try container.decode(CoordinatorConfiguration.self, forKey: .coordinator)
        labs = try container.decode([LabConfiguration].self, forKey: .labs)
        model = try container.decodeIfPresent(LinkDescription.self, forKey: .model)
        simulation = try container.decodeIfPresent(SimulationSettings.self, forKey: .simulation)
        correlation = try container.decodeIfPresent(CorrelationConfiguration.self, forKey: .correlation)
        monitoring = try container.decodeIfPresent(MonitoringConfiguration.self, forKey: .monitoring)
        guard labs.count >= 2 else {
            throw container.invalid(.labs, "a link needs at least two labs, found \(labs.count)")
        }
        for entry in correlation?.bases ?? [] where !labs.contains(where: { $0.name == entry.lab }) {
            throw container.invalid(.correlation, "correlation.bases names lab '\(entry.lab)', which is not in labs")
        }
        var seenLabs = Set<String>()
        var seenChannels = Set<Int32>()
        var seenNodes = Set<String>()
        for lab in labs {
            guard seenLabs.insert(lab.name).inserted else {
                throw container.invalid(.labs, "lab name '\(lab.name)' appears twice; lab names must be unique")
            }
            guard seenNodes.insert(lab.node).inserted else {
                throw container.invalid(.labs, "node '\(lab.node)' serves two labs; each lab needs its own node certificate, so that a node speaks only for its own lab")
            }
            for detector in lab.detectors {
                guard seenChannels.insert(detector.channel).inserted else {
                    throw container.invalid(.labs, "detector channel \(detector.channel) is used twice; channels are global across the link")
                }
            }
        }
        if let simulation {
            for (index, simulated) in simulation.labs.enumerated() {
                guard let lab = lab(named: simulated.lab) else {
                    throw container.invalid(.simulation, "labs[\(index)]: '\(simulated.lab)' is not a lab of this link; expected one of \(labs.map(\.name).joined(separator: ", "))")
                }
                let known = Set(lab.detectors.map(\.channel))
                for channel in simulated.channels ?? [] where !known.contains(channel) {
                    throw container.invalid(.simulation, "labs[\(index)].channels: channel \(channel) is not a detector channel of lab '\(lab.name)'; expected one of \(known.sorted())")
                }
                if let arm = simulated.arm, let model, !model.arms.contains(where: { $0.name == arm }) {
                    throw container.invalid(.simulation, "labs[\(index)].arm: '\(arm)' is not an arm of the model; expected one of \(model.arms.map(\.name).joined(separator: ", "))")
                }
            }
            if let channels = simulation.station.channels, let clash = channels.first(where: { seenChannels.contains($0) }) {
                throw container.invalid(.simulation, "station.channels: channel \(clash) belongs to a lab detector; channels are global across the link")
            }
        }
    }

    /// Loads and validates a configuration file.
    /// - Throws: ``ConfigurationError`` naming the file, key path and problem.
    public static func load(from path: String) throws(ConfigurationError) -> LinkConfiguration {
        let text = try ConfigurationError.readFile(path)
        var configuration = try StrictYAMLDecoder().decode(LinkConfiguration.self, from: text, file: path)
        configuration.file = path
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        configuration.resolvePaths(relativeTo: URL(fileURLWithPath: absolute).standardizedFileURL.deletingLastPathComponent().path)
        return configuration
    }

    /// Parses configuration text (paths stay as written).
    public static func parse(_ yaml: String, file: String = "<string>") throws(ConfigurationError) -> LinkConfiguration {
        var configuration = try StrictYAMLDecoder().decode(LinkConfiguration.self, from: yaml, file: file)
        configuration.file = file
        return configuration
    }

    /// Makes relative file paths relative to `directory` (the configuration file's folder).
    public mutating func resolvePaths(relativeTo directory: String) {
        func resolve(_ path: inout String) {
            guard !path.hasPrefix("/") else { return }
            path = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path
        }
        resolve(&security.caCertificate)
        if var crl = security.crl { resolve(&crl); security.crl = crl }
        resolve(&security.certificateStore)
        resolve(&coordinator.certificate)
        resolve(&coordinator.privateKey)
        resolve(&coordinator.dataDirectory)
        for index in labs.indices {
            resolve(&labs[index].certificate)
            resolve(&labs[index].privateKey)
        }
    }

    /// The lab with the given name.
    public func lab(named name: String) -> LabConfiguration? {
        labs.first { $0.name == name }
    }
}

/// Where the lab PKI lives.
public struct SecurityConfiguration: Decodable, Sendable, Equatable {
    /// PEM file of the lab certificate authority; the only trust anchor.
    public var caCertificate: String
    /// PEM file of the current certificate revocation list, if one is published.
    public var crl: String?
    /// Folder of node and coordinator certificates (PEM) that may connect.
    public var certificateStore: String
    /// ZAP domain used by every QLink server socket.
    public var zapDomain: String

    enum CodingKeys: String, CodingKey {
        case caCertificate, crl, certificateStore, zapDomain
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        caCertificate = try container.decode(String.self, forKey: .caCertificate)
        crl = try container.decodeIfPresent(String.self, forKey: .crl)
        certificateStore = try container.decode(String.self, forKey: .certificateStore)
        zapDomain = try container.decodeIfPresent(String.self, forKey: .zapDomain) ?? "qlink"
        guard !zapDomain.isEmpty, zapDomain.utf8.count <= 254 else {
            throw container.invalid(.zapDomain, "the ZAP domain must be 1 to 254 bytes long")
        }
    }
}

/// The coordinator's endpoints and identity.
public struct CoordinatorConfiguration: Decodable, Sendable, Equatable {
    /// Name as it appears in the coordinator's certificate.
    public var name: String
    /// Endpoint where nodes send tag batches and control messages (ROUTER), e.g. `tcp://127.0.0.1:5550`.
    public var controlEndpoint: Endpoint
    /// Endpoint where heralds and status are published (PUB).
    public var publishEndpoint: Endpoint
    /// The coordinator's certificate (PEM).
    public var certificate: String
    /// The coordinator's CURVE secret key file (mode 0600).
    public var privateKey: String
    /// Folder where the journal and spooled data are written.
    public var dataDirectory: String

    enum CodingKeys: String, CodingKey {
        case name, controlEndpoint, publishEndpoint, certificate, privateKey, dataDirectory
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        controlEndpoint = try container.decode(Endpoint.self, forKey: .controlEndpoint)
        publishEndpoint = try container.decode(Endpoint.self, forKey: .publishEndpoint)
        certificate = try container.decode(String.self, forKey: .certificate)
        privateKey = try container.decode(String.self, forKey: .privateKey)
        dataDirectory = try container.decodeIfPresent(String.self, forKey: .dataDirectory) ?? "run/coordinator"
        if controlEndpoint == publishEndpoint && controlEndpoint.port != 0 {
            throw container.invalid(.publishEndpoint, "the publish endpoint must differ from the control endpoint (\(controlEndpoint))")
        }
    }
}

/// One lab: its node service and detectors.
public struct LabConfiguration: Decodable, Sendable, Equatable {
    /// Lab name (`alice`, `bob`, …).
    public var name: String
    /// The node's name as it appears in its certificate.
    public var node: String
    /// The node's certificate (PEM).
    public var certificate: String
    /// The node's CURVE secret key file (mode 0600).
    public var privateKey: String
    /// Endpoint of the node's HTTP status/metrics server, if any.
    public var statusEndpoint: Endpoint?
    /// The lab's detector channels.
    public var detectors: [DetectorConfiguration]

    enum CodingKeys: String, CodingKey {
        case name, node, certificate, privateKey, statusEndpoint, detectors
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        node = try container.decode(String.self, forKey: .node)
        certificate = try container.decode(String.self, forKey: .certificate)
        privateKey = try container.decode(String.self, forKey: .privateKey)
        statusEndpoint = try container.decodeIfPresent(Endpoint.self, forKey: .statusEndpoint)
        detectors = try container.decode([DetectorConfiguration].self, forKey: .detectors)
        guard !detectors.isEmpty else {
            throw container.invalid(.detectors, "a lab needs at least one detector channel")
        }
    }
}

/// One detector channel of a time tagger.
public struct DetectorConfiguration: Decodable, Sendable, Equatable {
    /// Channel number as the time tagger reports it.
    public var channel: Int32
    /// What the channel measures, e.g. `H`, `V`, `D`, `A` or `herald`.
    public var name: String
    /// Delay subtracted from every tag of this channel, in picoseconds (cable and electronics).
    public var delayPs: Int64
    /// Detection efficiency (0…1).
    public var efficiency: Double
    /// Dark-count rate in Hz.
    public var darkCountRateHz: Double

    enum CodingKeys: String, CodingKey {
        case channel, name, delayPs, efficiency, darkCountRateHz
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        channel = try container.decode(Int32.self, forKey: .channel, in: -1024...1024, what: "a channel number")
        name = try container.decode(String.self, forKey: .name)
        delayPs = try container.decode(Int64.self, forKey: .delayPs, in: -1_000_000_000_000...1_000_000_000_000,
                                       default: 0, what: "a delay in picoseconds (±1 s)")
        efficiency = try container.decode(Double.self, forKey: .efficiency, in: 0...1, default: 1, what: "an efficiency")
        darkCountRateHz = try container.decode(Double.self, forKey: .darkCountRateHz, in: 0...1e9, default: 0,
                                               what: "a dark-count rate in Hz")
    }
}
