/// What one part of a link costs: capital written off over a lifetime, running cost per hour,
/// a cost and energy per attempt, and the electrical power it draws while the link runs.
///
/// Amounts are in the link's currency (``LinkCosts/currency``). Every field defaults to zero, so a
/// stage without a `cost:` mapping is free.
public struct CostModel: Decodable, Sendable, Equatable {
    /// Purchase price, written off linearly over ``lifetimeYears``.
    public var capital: Double
    /// Years over which ``capital`` is amortised.
    public var lifetimeYears: Double
    /// Running cost per hour of operation (staff share, cryogenics, lease, electricity at idle…).
    public var operatingPerHour: Double
    /// Cost of every attempt (consumables, per-shot pump light…).
    public var perAttempt: Double
    /// Energy used by every attempt in joules, priced with ``LinkCosts/energyPricePerKwh``.
    public var energyPerAttemptJ: Double
    /// Electrical power drawn continuously while the link runs (cryostat, lasers, electronics), in watts;
    /// priced with ``LinkCosts/energyPricePerKwh`` and counted in the energy per useful output.
    public var powerW: Double

    /// Seconds in a (Julian) year, used to amortise capital.
    public static let secondsPerYear = 365.25 * 24 * 3600

    public init(capital: Double = 0, lifetimeYears: Double = 5, operatingPerHour: Double = 0,
                perAttempt: Double = 0, energyPerAttemptJ: Double = 0, powerW: Double = 0) {
        self.capital = capital
        self.lifetimeYears = lifetimeYears
        self.operatingPerHour = operatingPerHour
        self.perAttempt = perAttempt
        self.energyPerAttemptJ = energyPerAttemptJ
        self.powerW = powerW
    }

    /// A cost model that costs nothing.
    public static let free = CostModel()

    enum CodingKeys: String, CodingKey {
        case capital, lifetimeYears, operatingPerHour, perAttempt, energyPerAttemptJ, powerW
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        capital = try container.decode(Double.self, forKey: .capital, in: 0...1e12, default: 0, what: "a capital cost")
        lifetimeYears = try container.decode(Double.self, forKey: .lifetimeYears, in: 0.01...100, default: 5,
                                             what: "a lifetime in years")
        operatingPerHour = try container.decode(Double.self, forKey: .operatingPerHour, in: 0...1e9, default: 0,
                                                what: "an operating cost per hour")
        perAttempt = try container.decode(Double.self, forKey: .perAttempt, in: 0...1e6, default: 0,
                                          what: "a cost per attempt")
        energyPerAttemptJ = try container.decode(Double.self, forKey: .energyPerAttemptJ, in: 0...1e6, default: 0,
                                                 what: "an energy per attempt in joules")
        powerW = try container.decode(Double.self, forKey: .powerW, in: 0...1e9, default: 0, what: "an electrical power in watts")
    }

    /// Capital written off per second of operation.
    public var amortisedCapitalPerSecond: Double {
        capital / (lifetimeYears * Self.secondsPerYear)
    }

    /// Time-proportional cost per second: amortised capital plus operating cost.
    public var fixedCostPerSecond: Double {
        amortisedCapitalPerSecond + operatingPerHour / 3600
    }

    /// Cost of one attempt including its energy at `energyPricePerKwh`.
    public func costPerAttempt(energyPricePerKwh: Double) -> Double {
        perAttempt + energyPerAttemptJ / 3.6e6 * energyPricePerKwh
    }
}

/// Costs summed over a link: a fixed cost per second and a cost per attempt.
public struct CostTotals: Sendable, Equatable {
    /// Amortised capital plus operating cost, per second.
    public var fixedPerSecond: Double
    /// Cost per attempt before energy pricing.
    public var perAttempt: Double
    /// Energy per attempt in joules.
    public var energyPerAttemptJ: Double
    /// Electrical power drawn continuously, in watts (not priced into ``fixedPerSecond``).
    public var powerW: Double

    public init(fixedPerSecond: Double = 0, perAttempt: Double = 0, energyPerAttemptJ: Double = 0, powerW: Double = 0) {
        self.fixedPerSecond = fixedPerSecond
        self.perAttempt = perAttempt
        self.energyPerAttemptJ = energyPerAttemptJ
        self.powerW = powerW
    }

    /// The totals of a single cost model.
    public init(_ model: CostModel) {
        self.init(fixedPerSecond: model.fixedCostPerSecond, perAttempt: model.perAttempt,
                  energyPerAttemptJ: model.energyPerAttemptJ, powerW: model.powerW)
    }

    public static func + (lhs: CostTotals, rhs: CostTotals) -> CostTotals {
        CostTotals(fixedPerSecond: lhs.fixedPerSecond + rhs.fixedPerSecond,
                   perAttempt: lhs.perAttempt + rhs.perAttempt,
                   energyPerAttemptJ: lhs.energyPerAttemptJ + rhs.energyPerAttemptJ,
                   powerW: lhs.powerW + rhs.powerW)
    }

    /// Cost per second of the continuous power at `energyPricePerKwh`.
    public func powerCostPerSecond(energyPricePerKwh: Double) -> Double {
        powerW / 3.6e6 * energyPricePerKwh
    }

    /// Cost of one attempt including energy at `energyPricePerKwh`.
    public func costPerAttempt(energyPricePerKwh: Double) -> Double {
        perAttempt + energyPerAttemptJ / 3.6e6 * energyPricePerKwh
    }
}

/// Link-wide cost settings: the currency, the energy price and costs not tied to one stage.
public struct LinkCosts: Decodable, Sendable, Equatable {
    /// Currency label used in reports (`EUR`, `USD`, `CHF`…); amounts are plain numbers.
    public var currency: String
    /// Price of electrical energy per kilowatt-hour.
    public var energyPricePerKwh: Double
    /// Costs of the link as a whole (lab overhead, fibre lease, control electronics…).
    public var overhead: CostModel

    public init(currency: String = "EUR", energyPricePerKwh: Double = 0, overhead: CostModel = .free) {
        self.currency = currency
        self.energyPricePerKwh = energyPricePerKwh
        self.overhead = overhead
    }

    enum CodingKeys: String, CodingKey {
        case currency, energyPricePerKwh, overhead
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        currency = try container.decodeIfPresent(String.self, forKey: .currency) ?? "EUR"
        guard !currency.isEmpty, currency.count <= 8 else {
            throw container.invalid(.currency, "'\(currency)' is not a currency label; use 1 to 8 characters such as EUR")
        }
        energyPricePerKwh = try container.decode(Double.self, forKey: .energyPricePerKwh, in: 0...1e6, default: 0,
                                                 what: "an energy price per kWh")
        overhead = try container.decodeIfPresent(CostModel.self, forKey: .overhead) ?? .free
    }
}
