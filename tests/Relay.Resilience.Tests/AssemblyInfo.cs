// The scenarios time outages and kills on a 2-core machine: one at a time, or they would measure each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
