/// Current GPU load from nvidia-smi (summed over GPUs; utilization averaged).
struct GPUUsage {
    var utilizationPct: Double
    var memoryUsedGB: Double

    static func sample(timeout: Double = 5) -> GPUUsage? {
        guard
            let result = Subprocess.run(
                ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"],
                timeout: timeout),
            result.status == 0
        else { return nil }
        return parse(result.output)
    }

    static func parse(_ output: String) -> GPUUsage? {
        var utilization: [Double] = []
        var memoryMiB = 0.0
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: ",").map { AgentConfiguration.trim($0) }
            guard fields.count == 2, let u = Double(fields[0]), let m = Double(fields[1]) else { continue }
            utilization.append(u)
            memoryMiB += m
        }
        guard let average = Statistics.mean(utilization) else { return nil }
        return GPUUsage(
            utilizationPct: Statistics.rounded(average, places: 1),
            memoryUsedGB: Statistics.rounded(memoryMiB / 1024, places: 2))
    }
}
