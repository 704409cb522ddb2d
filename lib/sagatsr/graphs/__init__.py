"""Crystal graphs: neighbour lists, graph arrays, the content-hash cache and the graph store."""
