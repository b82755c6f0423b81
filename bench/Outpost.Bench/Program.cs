using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Outpost.Bench.PricingBenchmarks).Assembly).Run(args);
