# cluster_member.exs: a cluster member for the t_cluster_* scenarios, as an
# app would run one, knowing nothing of erlfwd: it connects to every seed in
# a loop (what libcluster's Epmd strategy does; libcluster is not installed
# here), joins the :pg group :members, registers {:member, node()} in
# :global, and writes what it sees to $CL_STATUS every 100 ms.
status = System.fetch_env!("CL_STATUS")
seeds =
  System.fetch_env!("CL_SEEDS")
  |> String.split()
  |> Enum.map(&String.to_atom/1)

{:ok, _} = :pg.start_link()
:ok = :pg.join(:members, self())
:yes = :global.register_name({:member, node()}, self())

join = fn ->
  for s <- seeds, s != node(), s not in Node.list(), do: Node.connect(s)
end

write = fn ->
  show = fn list -> list |> Enum.map(&to_string/1) |> Enum.sort() |> Enum.uniq() |> Enum.join(",") end
  nodes = show.(Node.list())
  global = show.(for {:member, n} <- :global.registered_names(), n != node(), do: n)
  pg = show.(for p <- :pg.get_members(:members), node(p) != node(), do: node(p))
  File.write!(status <> ".tmp", "nodes=#{nodes}\nglobal=#{global}\npg=#{pg}\n")
  File.rename!(status <> ".tmp", status)
end

loop = fn loop ->
  join.()
  write.()
  Process.sleep(100)
  loop.(loop)
end

loop.(loop)
