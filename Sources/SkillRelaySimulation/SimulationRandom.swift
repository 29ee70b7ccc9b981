import Foundation
import SkillRelayDomain

/// The simulation's one stream of random numbers: the same seed, the same draws, in the same order.
struct SimulationRandom {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(generator.next() >> 11) * 0x1.0p-53 }

    /// `true` with probability `p`.
    mutating func chance(_ p: Double) -> Bool { uniform() < p }

    /// Uniform in `range`.
    mutating func int(in range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.next() % UInt64(range.count)) }

    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u = max(uniform(), 0x1.0p-53)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * uniform())
    }

    /// Log-normal with this median and sigma.
    mutating func logNormal(median: Double, spread: Double) -> Double { median * exp(spread * normal()) }

    /// Poisson with this mean (Knuth's method: the means here are small).
    mutating func poisson(mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        let limit = exp(-mean)
        var count = 0
        var product = uniform()
        while product > limit {
            count += 1
            product *= uniform()
        }
        return count
    }

    /// An index drawn with these weights (cumulative, ascending, last > 0).
    mutating func pick(cumulative: [Double]) -> Int {
        let target = uniform() * cumulative[cumulative.count - 1]
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The same uniform number in [0, 1) for the same inputs, drawn from nothing: presence at a moment must not depend
    /// on how often it was asked for.
    static func hash(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> Double {
        var mix = SplitMix64(seed: a &* 0x9E37_79B9_7F4A_7C15 ^ b &* 0xC2B2_AE3D_27D4_EB4F ^ c &* 0x1656_67B1_9E37_79F9)
        return Double(mix.next() >> 11) * 0x1.0p-53
    }
}
