import KittAgent
import KittJSON
import Testing

@Suite struct MachineFactsTests {
    static let x86 = """
        processor\t: 0
        vendor_id\t: AuthenticAMD
        model name\t: AMD EPYC 7763 64-Core Processor
        cpu MHz\t\t: 2445.404

        processor\t: 1
        vendor_id\t: AuthenticAMD
        model name\t: AMD EPYC 7763 64-Core Processor

        """
    static let arm = """
        processor\t: 0
        BogoMIPS\t: 2000.00
        CPU implementer\t: 0x41

        processor\t: 1
        BogoMIPS\t: 2000.00

        Hardware\t: NVIDIA Jetson AGX Orin
        Model\t\t: NVIDIA Jetson AGX Orin Developer Kit
        """

    @Test func cpuModelAndCount() {
        #expect(MachineFacts.parseCPUModel(cpuinfo: Self.x86) == "AMD EPYC 7763 64-Core Processor")
        #expect(MachineFacts.countProcessors(cpuinfo: Self.x86) == 2)
        #expect(MachineFacts.parseCPUModel(cpuinfo: Self.arm) == "NVIDIA Jetson AGX Orin")
        #expect(MachineFacts.parseCPUModel(cpuinfo: "") == nil)
    }

    @Test func memTotal() {
        let meminfo = "MemFree:        1000 kB\nMemTotal:       65843212 kB\nSwapTotal: 0 kB\n"
        #expect(MachineFacts.parseMemTotalKB(meminfo: meminfo) == 65_843_212)
        #expect(MachineFacts.parseMemTotalKB(meminfo: "garbage") == nil)
    }

    @Test func nvidiaSMI() {
        let output = "NVIDIA A100-SXM4-80GB, 81920\nNVIDIA A100-SXM4-80GB, 81920\n\nbroken line\n"
        let gpus = MachineFacts.parseNvidiaSMI(output)
        #expect(
            gpus == [
                GPUInfo(name: "NVIDIA A100-SXM4-80GB", memoryMiB: 81920),
                GPUInfo(name: "NVIDIA A100-SXM4-80GB", memoryMiB: 81920),
            ])
    }

    @Test func registrationBodyAndSystemInfo() throws {
        let facts = MachineFacts(
            hostname: "gpu-1", cpuModel: "AMD EPYC", cpuArch: "x86_64", cores: 64, ramGB: 503.5,
            gpus: [GPUInfo(name: "NVIDIA H100", memoryMiB: 81559)], environmentType: "native_linux")
        let body = facts.registration(name: "rig", port: 8090, version: "0.9.0")
        #expect(body["name"]?.stringValue == "rig")
        #expect(body["hostname"]?.stringValue == "gpu-1")
        #expect(body["gpu_info"]?.stringValue == "NVIDIA H100")
        #expect(body["gpu_count"]?.intValue == 1)
        #expect(body["cpu_arch"]?.stringValue == "x86_64")
        #expect(body["ram_gb"]?.doubleValue == 503.5)
        #expect(body["fingerprint"]?.stringValue?.count == 16)
        #expect(body["capabilities"]?.arrayValue?.contains("throughput") == true)
        #expect(facts.systemInfo["gpu"]?["vram_gb"]?.doubleValue == 79.6)
        #expect(facts.systemInfo["cpu"]?["cores"]?.intValue == 64)
        // Same facts, same fingerprint; other GPUs, another.
        var other = facts
        other.gpus = []
        #expect(other.fingerprint != facts.fingerprint)
        #expect(other.registration(name: "r", port: 1, version: "v")["gpu_info"]?.stringValue == "none")
    }

    @Test func gatherReadsThisMachine() {
        let facts = MachineFacts.gather(nvidiaSMITimeout: 2)
        #expect(!facts.hostname.isEmpty)
        #expect(facts.cores >= 1)
        #expect(facts.ramGB > 0)
        #expect(["x86_64", "aarch64", "arm64"].contains(facts.cpuArch))
    }
}
