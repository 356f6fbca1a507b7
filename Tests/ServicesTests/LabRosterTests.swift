import Protocol
import Security
@testable import Services
import Testing
import TimeTags

/// The admission rule on its own, over every combination of certificate, claimed node, claimed lab and role
/// (the socket tests cannot reach a hello from a certificate without the node role: ZAP refuses it first).
@Suite("Lab roster: who may claim which lab and channel")
struct LabRosterTests {
    /// alice (channels 1–2, records the station 21/22), bob (11–12), and `shared-node` listed for carol and dave.
    static let roster = LabRoster(labs: [LabMember(name: "alice", node: "alice-node", channels: [1, 2]),
                                         LabMember(name: "bob", node: "bob-node", channels: [11, 12]),
                                         LabMember(name: "carol", node: "shared-node", channels: [31]),
                                         LabMember(name: "dave", node: "shared-node", channels: [41])],
                                  heralds: HeraldSettings(repetitionPeriodPs: 100_000, windowStartPs: 0, windowEndPs: 10,
                                                          stationChannels: [21, 22], stationLab: 0))

    @Test("every hello: admitted exactly when the certificate is a node listed for the claimed lab and named in the hello")
    func everyHello() {
        let names = ["alice-node", "bob-node", "shared-node", "mallory-node", ""]
        let labs = ["alice", "bob", "carol", "dave", "station", ""]
        var admitted: [String] = []
        for certificate in names {
            for claimedNode in names {
                for lab in labs {
                    for role in [NodeRole.node, .coordinator, nil] {
                        let sender = AuthenticatedSender(name: certificate, serial: "01", role: role, peerAddress: "192.0.2.1")
                        let result = Self.roster.admit(Hello(node: claimedNode, lab: lab), from: sender)
                        let expected: Result<Int, ClaimRefusal>
                        if role != .node {
                            expected = .failure(.wrongRole)
                        } else if claimedNode != certificate {
                            expected = .failure(.nodeMismatch)
                        } else if !Self.roster.labs.contains(where: { $0.node == certificate }) {
                            expected = .failure(.unlistedNode)
                        } else if let index = Self.roster.labs.firstIndex(where: { $0.node == certificate && $0.name == lab }) {
                            expected = .success(index)
                        } else {
                            expected = .failure(.wrongLab)
                        }
                        #expect(result == expected, "\(certificate) as \(claimedNode) of '\(lab)' (\(String(describing: role)))")
                        if case .success = result { admitted.append("\(certificate)→\(lab)") }
                    }
                }
            }
        }
        #expect(admitted == ["alice-node→alice", "bob-node→bob", "shared-node→carol", "shared-node→dave"])
    }

    @Test("every channel: a lab owns its detectors; only the station's lab may report the station")
    func everyChannel() {
        for channel in TagChannel(-3)...45 {
            for (index, lab) in Self.roster.labs.enumerated() {
                let expected: ClaimRefusal? = lab.channels.contains(channel) ? nil
                    : [21, 22].contains(channel) ? (index == 0 ? nil : .stationChannel) : .foreignChannel
                #expect(Self.roster.refusal(channel: channel, lab: index) == expected, "channel \(channel) from \(lab.name)")
            }
        }
    }
}
