/**
 * The fixed parts of EC2 the emulator answers from: regions, their availability
 * zones, and a real subset of instance types (vCPUs, memory, GPUs) covering the
 * types analysis pipelines use.
 */

/** Regions as DescribeRegions lists them (opt-in regions omitted). */
export const REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-south-1',
  'sa-east-1',
]

/** us-east-1 has six zones, us-west-1 two, the rest of these three. */
export function zonesOf(region: string): string[] {
  const letters = region === 'us-east-1' ? 'abcdef' : region === 'us-west-1' ? 'ac' : 'abc'
  return [...letters].map((letter) => `${region}${letter}`)
}

export const ZONE_ID_PREFIX: Record<string, string> = {
  'us-east-1': 'use1',
  'us-east-2': 'use2',
  'us-west-1': 'usw1',
  'us-west-2': 'usw2',
}

export const zoneId = (region: string, index: number) => `${ZONE_ID_PREFIX[region] ?? region.replace(/-/g, '').slice(0, 6)}-az${index + 1}`

export interface InstanceTypeInfo {
  name: string
  vcpus: number
  memoryMiB: number
  gpus?: {count: number; name: string; manufacturer: string; memoryMiB: number}
  burstable?: boolean
  network: string
}

const type = (name: string, vcpus: number, memoryMiB: number, network: string, extra: Partial<InstanceTypeInfo> = {}) => ({
  name,
  vcpus,
  memoryMiB,
  network,
  ...extra,
})
const t2 = (name: string, vcpus: number, memoryMiB: number) => type(name, vcpus, memoryMiB, 'Low to Moderate', {burstable: true})
const t3 = (name: string, vcpus: number, memoryMiB: number) => type(name, vcpus, memoryMiB, 'Up to 5 Gigabit', {burstable: true})
const k80 = (count: number) => ({count, name: 'K80', manufacturer: 'NVIDIA', memoryMiB: 12_288})
const v100 = (count: number) => ({count, name: 'V100', manufacturer: 'NVIDIA', memoryMiB: 16_384})
const t4 = (count: number) => ({count, name: 'T4', manufacturer: 'NVIDIA', memoryMiB: 16_384})

export const INSTANCE_TYPES: readonly InstanceTypeInfo[] = [
  type('m1.small', 1, 1740, 'Low'),
  t2('t2.nano', 1, 512),
  t2('t2.micro', 1, 1024),
  t2('t2.small', 1, 2048),
  t2('t2.medium', 2, 4096),
  t2('t2.large', 2, 8192),
  t2('t2.xlarge', 4, 16_384),
  t2('t2.2xlarge', 8, 32_768),
  t3('t3.nano', 2, 512),
  t3('t3.micro', 2, 1024),
  t3('t3.small', 2, 2048),
  t3('t3.medium', 2, 4096),
  t3('t3.large', 2, 8192),
  t3('t3.xlarge', 4, 16_384),
  t3('t3.2xlarge', 8, 32_768),
  type('m5.large', 2, 8192, 'Up to 10 Gigabit'),
  type('m5.xlarge', 4, 16_384, 'Up to 10 Gigabit'),
  type('m5.2xlarge', 8, 32_768, 'Up to 10 Gigabit'),
  type('m5.4xlarge', 16, 65_536, 'Up to 10 Gigabit'),
  type('m5.8xlarge', 32, 131_072, '10 Gigabit'),
  type('m5.12xlarge', 48, 196_608, '12 Gigabit'),
  type('m5.16xlarge', 64, 262_144, '20 Gigabit'),
  type('m5.24xlarge', 96, 393_216, '25 Gigabit'),
  type('c5.large', 2, 4096, 'Up to 10 Gigabit'),
  type('c5.xlarge', 4, 8192, 'Up to 10 Gigabit'),
  type('c5.2xlarge', 8, 16_384, 'Up to 10 Gigabit'),
  type('c5.4xlarge', 16, 32_768, 'Up to 10 Gigabit'),
  type('c5.9xlarge', 36, 73_728, '12 Gigabit'),
  type('c5.12xlarge', 48, 98_304, '12 Gigabit'),
  type('c5.18xlarge', 72, 147_456, '25 Gigabit'),
  type('c5.24xlarge', 96, 196_608, '25 Gigabit'),
  type('r5.large', 2, 16_384, 'Up to 10 Gigabit'),
  type('r5.xlarge', 4, 32_768, 'Up to 10 Gigabit'),
  type('r5.2xlarge', 8, 65_536, 'Up to 10 Gigabit'),
  type('r5.4xlarge', 16, 131_072, 'Up to 10 Gigabit'),
  type('r5.8xlarge', 32, 262_144, '10 Gigabit'),
  type('r5.12xlarge', 48, 393_216, '12 Gigabit'),
  type('r5.16xlarge', 64, 524_288, '20 Gigabit'),
  type('r5.24xlarge', 96, 786_432, '25 Gigabit'),
  type('p2.xlarge', 4, 62_464, 'High', {gpus: k80(1)}),
  type('p2.8xlarge', 32, 499_712, '10 Gigabit', {gpus: k80(8)}),
  type('p2.16xlarge', 64, 786_432, '25 Gigabit', {gpus: k80(16)}),
  type('p3.2xlarge', 8, 62_464, 'Up to 10 Gigabit', {gpus: v100(1)}),
  type('p3.8xlarge', 32, 249_856, '10 Gigabit', {gpus: v100(4)}),
  type('p3.16xlarge', 64, 499_712, '25 Gigabit', {gpus: v100(8)}),
  type('g4dn.xlarge', 4, 16_384, 'Up to 25 Gigabit', {gpus: t4(1)}),
  type('g4dn.2xlarge', 8, 32_768, 'Up to 25 Gigabit', {gpus: t4(1)}),
  type('g4dn.4xlarge', 16, 65_536, 'Up to 25 Gigabit', {gpus: t4(1)}),
  type('g4dn.8xlarge', 32, 131_072, '50 Gigabit', {gpus: t4(1)}),
  type('g4dn.12xlarge', 48, 196_608, '50 Gigabit', {gpus: t4(4)}),
  type('g4dn.16xlarge', 64, 262_144, '50 Gigabit', {gpus: t4(1)}),
]

export const instanceTypeInfo = (name: string): InstanceTypeInfo | undefined => INSTANCE_TYPES.find((info) => info.name === name)

/** DescribeInstanceTypes' InstanceTypeInfo shape. */
export function instanceTypeView(info: InstanceTypeInfo): Record<string, unknown> {
  const family = info.name.split('.')[0]!
  return {
    InstanceType: info.name,
    CurrentGeneration: family !== 'm1',
    FreeTierEligible: info.name === 't2.micro' || info.name === 't3.micro',
    SupportedUsageClasses: ['on-demand', 'spot'],
    SupportedRootDeviceTypes: ['ebs'],
    SupportedVirtualizationTypes: ['hvm'],
    BareMetal: false,
    Hypervisor: family === 't2' || family === 'p2' || family === 'p3' || family === 'm1' ? 'xen' : 'nitro',
    ProcessorInfo: {SupportedArchitectures: ['x86_64'], SustainedClockSpeedInGhz: 2.5},
    VCpuInfo: {DefaultVCpus: info.vcpus, DefaultCores: Math.max(1, info.vcpus / 2), DefaultThreadsPerCore: info.vcpus > 1 ? 2 : 1},
    MemoryInfo: {SizeInMiB: info.memoryMiB},
    InstanceStorageSupported: false,
    EbsInfo: {EbsOptimizedSupport: family === 't2' ? 'unsupported' : 'default', EncryptionSupport: 'supported', NvmeSupport: 'required'},
    NetworkInfo: {
      NetworkPerformance: info.network,
      MaximumNetworkInterfaces: Math.min(15, 2 + Math.floor(info.vcpus / 4)),
      Ipv4AddressesPerInterface: 10,
      Ipv6Supported: true,
      EnaSupport: family === 't2' ? 'unsupported' : 'required',
    },
    ...(info.gpus
      ? {
          GpuInfo: {
            Gpus: [
              {
                Name: info.gpus.name,
                Manufacturer: info.gpus.manufacturer,
                Count: info.gpus.count,
                MemoryInfo: {SizeInMiB: info.gpus.memoryMiB},
              },
            ],
            TotalGpuMemoryInMiB: info.gpus.count * info.gpus.memoryMiB,
          },
        }
      : {}),
    PlacementGroupInfo: {SupportedStrategies: ['partition', 'spread', ...(info.burstable ? [] : ['cluster'])]},
    HibernationSupported: false,
    BurstablePerformanceSupported: info.burstable === true,
    DedicatedHostsSupported: !info.burstable,
    AutoRecoverySupported: true,
    SupportedBootModes: ['legacy-bios', 'uefi'],
  }
}
