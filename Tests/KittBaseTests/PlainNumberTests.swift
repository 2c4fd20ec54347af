import KittBase
import Testing

@Suite struct PlainNumberTests {
    @Test(arguments: [
        (42.0, "42"), (-7.0, "-7"), (1e9, "1000000000"), (0.0, "0"), (0.001, "0.001"), (0.5, "0.5"),
        (1e15, "1000000000000000.0"), (-1e300, "-1e+300"), (Double.infinity, "inf"), (-Double.infinity, "-inf"),
        (Double.nan, "nan"), (9.007199254740993e18, "9.007199254740993e+18"),
    ])
    func wholeNumbersLoseTheirFractionAndNothingTraps(value: Double, text: String) {
        #expect(plainNumber(value) == text)
    }
}
