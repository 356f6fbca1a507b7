import Protocol
import Security
import TimeTags

/// One lab as the coordinator admits it: the node certified to speak for it and the channels it reports.
public struct LabMember: Sendable, Equatable {
    /// The lab's name (`labs[].name`).
    public var name: String
    /// The common name of the only certificate that may speak for the lab (`labs[].node`).
    public var node: String
    /// The lab's detector channels (`labs[].detectors`).
    public var channels: Set<TagChannel>

    /// Binds `node` to the lab `name` with its detector `channels`.
    public init(name: String, node: String, channels: Set<TagChannel>) {
        self.name = name
        self.node = node
        self.channels = channels
    }
}

/// Why the coordinator refuses a node's claim. The raw value is the `reason` label in logs and metrics.
public enum ClaimRefusal: String, Error, Sendable, CaseIterable, Codable {
    /// The hello names another node than the certificate's common name.
    case nodeMismatch = "node-mismatch"
    /// The certificate's common name serves no lab of the configuration.
    case unlistedNode = "unlisted-node"
    /// The node claims a lab the configuration does not assign to it (another lab, the station, or none).
    case wrongLab = "wrong-lab"
    /// The certificate does not grant the node role.
    case wrongRole = "wrong-role"
    /// Tags on a channel that is neither the lab's detector nor, for the lab recording the station, a station detector.
    case foreignChannel = "foreign-channel"
    /// Tags on a station detector from a lab that does not record the station: heralds are the station's role.
    case stationChannel = "station-channel"
}

/// Who may speak for which lab, from the configuration: a hello is admitted only as the lab assigned to the
/// certificate's common name, and a lab's batches may carry only its own detectors' channels (plus the
/// station's, for the one lab whose tagger records the station).
struct LabRoster {
    let labs: [LabMember]
    let stationLab: Int?
    let stationChannels: Set<TagChannel>

    init(labs: [LabMember], heralds: HeraldSettings?) {
        self.labs = labs
        stationLab = heralds.map(\.stationLab)
        stationChannels = Set(heralds?.stationChannels ?? [])
    }

    /// The index of the lab `sender` may speak for when its hello says `hello`, or why not.
    func admit(_ hello: Hello, from sender: AuthenticatedSender) -> Result<Int, ClaimRefusal> {
        guard sender.role == .node else { return .failure(.wrongRole) }
        guard hello.node == sender.name else { return .failure(.nodeMismatch) }
        guard labs.contains(where: { $0.node == sender.name }) else { return .failure(.unlistedNode) }
        guard let index = labs.firstIndex(where: { $0.node == sender.name && $0.name == hello.lab }) else { return .failure(.wrongLab) }
        return .success(index)
    }

    /// The labs the configuration assigns to `node`, comma-separated (for refusal messages).
    func labs(of node: String) -> String { labs.filter { $0.node == node }.map(\.name).joined(separator: ", ") }

    /// Why the lab at `index` may not report `channel`, or nil when it may.
    func refusal(channel: TagChannel, lab index: Int) -> ClaimRefusal? {
        if labs[index].channels.contains(channel) { return nil }
        if stationChannels.contains(channel) { return index == stationLab ? nil : .stationChannel }
        return .foreignChannel
    }
}
