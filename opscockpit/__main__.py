from opscockpit.cli import main

main()
