from qcode.cli.entry import main

main()
