/// How the two arms are entangled.
///
/// YAML: `protocol: { kind: single_click, alpha: 0.3 }`, `{ kind: double_click }` or
/// `{ kind: pair_source, mean_pairs_per_attempt: 0.01 }`.
public enum EntanglementProtocol: Decodable, Sendable, Equatable {
    /// Single-click heralding at a beam splitter with bright-state population α
    /// (Humphreys et al., Nature 558, 268 (2018)).
    case singleClick(alpha: Double)
    /// Double-click (Barrett–Kok) heralding: two rounds with a spin flip in between
    /// (Barrett & Kok, PRA 71, 060310 (2005)).
    case doubleClick
    /// A pair source at the midpoint sends one photon of each pair to a heralded memory in each lab.
    case pairSource(meanPairsPerAttempt: Double)

    /// The YAML spelling of the kind.
    public var kindName: String {
        switch self {
        case .singleClick: "single_click"
        case .doubleClick: "double_click"
        case .pairSource: "pair_source"
        }
    }

    /// True when photons are heralded by interference at the midpoint station.
    public var heraldsAtMidpoint: Bool {
        if case .pairSource = self { return false }
        return true
    }

    /// The protocol's brightness knob (α or mean pairs per attempt), nil for double-click.
    public var knob: Double? {
        switch self {
        case .singleClick(let alpha): alpha
        case .doubleClick: nil
        case .pairSource(let mean): mean
        }
    }

    /// The same protocol with its knob set to `value` (double-click is unchanged).
    public func withKnob(_ value: Double) -> EntanglementProtocol {
        switch self {
        case .singleClick: .singleClick(alpha: value)
        case .doubleClick: .doubleClick
        case .pairSource: .pairSource(meanPairsPerAttempt: value)
        }
    }

    enum CodingKeys: String, CodingKey {
        case kind, alpha, meanPairsPerAttempt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(String.self, forKey: .kind)
        switch kind {
        case "single_click":
            self = .singleClick(alpha: try container.decode(Double.self, forKey: .alpha, in: 1e-9...0.5,
                                                            what: "a bright-state population α"))
        case "double_click", "barrett_kok":
            self = .doubleClick
        case "pair_source":
            self = .pairSource(meanPairsPerAttempt: try container.decode(
                Double.self, forKey: .meanPairsPerAttempt, in: 1e-9...10, what: "a mean number of pairs per attempt"))
        default:
            throw container.invalid(.kind, "'\(kind)' is not a protocol; expected single_click, double_click or pair_source")
        }
    }
}
